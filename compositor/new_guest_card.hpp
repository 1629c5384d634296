// The overlay's new-guest card: what the agent planned for an installer (the OS libosinfo
// recognised, its machine model, whether the disk is encrypted) and the memory, CPUs and disk
// size the user sets before creating the guest. Pure logic, unit-tested.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "guestview/guest_inventory.hpp"

namespace phyllome::compositor {

class NewGuestCard {
public:
    enum class Field { Memory, Cpus, Disk };

    NewGuestCard(std::string installer, std::string name);

    // The agent's answer; the sizes start from its recommendation.
    void set_plan(guestview::PlanView plan);

    const std::string& installer() const { return installer_; }
    const std::string& name() const { return name_; }
    const std::optional<guestview::PlanView>& plan() const { return plan_; }
    int memory_mb() const { return memory_mb_; }
    int cpus() const { return cpus_; }
    int disk_gb() const { return disk_gb_; }
    Field field() const { return field_; }

    // Up and Down move between the sizes; Left and Right change the chosen one in steps
    // (memory: 512 MB up to 2 GB, then 1 GB; CPUs: 1; disk: 8 GB, 1 GB under 8).
    void move_field(int direction);
    void adjust(int direction);

    // What is worth a second look but allowed: below the OS's minimum.
    std::vector<std::string> warnings() const;
    // Why Enter cannot create the guest now (still planning, the plan's problem, a disk larger
    // than the free space); empty when it can.
    std::string blocker() const;

private:
    std::string installer_;
    std::string name_;
    std::optional<guestview::PlanView> plan_;
    int memory_mb_ = 0, cpus_ = 0, disk_gb_ = 0;
    Field field_ = Field::Memory;
};

} // namespace phyllome::compositor
