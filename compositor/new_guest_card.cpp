#include "compositor/new_guest_card.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace phyllome::compositor {
namespace {

// The same bounds guest_spec_problem holds the agent to, so the card never offers what the
// agent refuses.
constexpr int min_memory_mb = 512, max_memory_mb = 1024 * 1024;
constexpr int max_cpus = 512;
constexpr int max_disk_gb = 64 * 1024;

int memory_step(int memory_mb, int direction) {
    const bool small = direction > 0 ? memory_mb < 2048 : memory_mb <= 2048;
    return small ? 512 : 1024;
}

} // namespace

NewGuestCard::NewGuestCard(std::string installer, std::string name)
    : installer_(std::move(installer)), name_(std::move(name)) {}

void NewGuestCard::set_plan(guestview::PlanView plan) {
    memory_mb_ = plan.memory_mb;
    cpus_ = plan.cpus;
    disk_gb_ = plan.disk_gb;
    plan_ = std::move(plan);
}

void NewGuestCard::move_field(int direction) {
    const int index = std::clamp(static_cast<int>(field_) + direction, 0, 2);
    field_ = static_cast<Field>(index);
}

void NewGuestCard::adjust(int direction) {
    if (!plan_ || !plan_->problem.empty())
        return;
    switch (field_) {
    case Field::Memory:
        memory_mb_ = std::clamp(memory_mb_ + direction * memory_step(memory_mb_, direction), min_memory_mb, max_memory_mb);
        break;
    case Field::Cpus:
        cpus_ = std::clamp(cpus_ + direction, 1, max_cpus);
        break;
    case Field::Disk:
        disk_gb_ = std::clamp(disk_gb_ + direction * ((direction > 0 ? disk_gb_ >= 8 : disk_gb_ > 8) ? 8 : 1), 1,
                              max_disk_gb);
        break;
    }
}

std::vector<std::string> NewGuestCard::warnings() const {
    std::vector<std::string> out;
    if (!plan_)
        return out;
    if (plan_->min_memory_mb > 0 && memory_mb_ < plan_->min_memory_mb)
        out.push_back(fmt::format("{} needs at least {} MB of memory", plan_->os_name, plan_->min_memory_mb));
    if (plan_->min_disk_gb > 0 && disk_gb_ < plan_->min_disk_gb)
        out.push_back(fmt::format("{} needs a disk of at least {} GB", plan_->os_name, plan_->min_disk_gb));
    return out;
}

std::string NewGuestCard::blocker() const {
    if (!plan_)
        return "looking at the installer…";
    if (!plan_->problem.empty())
        return plan_->problem;
    if (plan_->free_disk_gb >= 0 && disk_gb_ > plan_->free_disk_gb)
        return fmt::format("only {} GB are free for the disk: make it smaller or free some space",
                           plan_->free_disk_gb);
    return {};
}

} // namespace phyllome::compositor
