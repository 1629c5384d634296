#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "compositor/overlay_model.hpp"
#include "tests/compositor/plan_samples.hpp"

namespace phyllome::compositor {
namespace {

using guestview::Action;
using guestview::GuestInfo;
using guestview::GuestState;
using Key = OverlayModel::Key;
using Kind = OverlayCommand::Kind;

GuestInfo guest(std::string name, GuestState state, bool dbus = true) {
    GuestInfo g;
    g.name = std::move(name);
    g.state = state;
    g.graphics = dbus ? guestview::GraphicsSupport::DbusP2P : guestview::GraphicsSupport::Unsupported;
    return g;
}

class OverlayModelTest : public ::testing::Test {
protected:
    void SetUp() override {
        model.set_guests({guest("alpha", GuestState::Running), guest("bravo", GuestState::ShutOff),
                          guest("charlie", GuestState::Crashed, false)});
    }
    OverlayModel model;
    OverlayModel::Clock::time_point t0 = OverlayModel::Clock::now();
};

TEST_F(OverlayModelTest, SelectionMovesAndStopsAtTheEnds) {
    EXPECT_EQ(model.selection(), 0u);
    model.on_key(Key::Up, t0);
    EXPECT_EQ(model.selection(), 0u);
    model.on_key(Key::Down, t0);
    model.on_key(Key::Down, t0);
    model.on_key(Key::Down, t0);
    EXPECT_EQ(model.selection(), 2u);
    model.on_key(Key::Home, t0);
    EXPECT_EQ(model.selection(), 0u);
    model.on_key(Key::End, t0);
    EXPECT_EQ(model.selected_guest()->name, "charlie");
}

TEST_F(OverlayModelTest, SelectionFollowsTheGuestWhenTheListChanges) {
    model.on_key(Key::Down, t0); // bravo
    model.set_guests({guest("aardvark", GuestState::ShutOff), guest("alpha", GuestState::Running),
                      guest("bravo", GuestState::Running)});
    EXPECT_EQ(model.selected_guest()->name, "bravo");
    model.set_guests({guest("alpha", GuestState::Running)});
    EXPECT_EQ(model.selection(), 0u) << "a vanished selection falls back to the first row";
    model.set_guests({});
    EXPECT_FALSE(model.selection().has_value());
    EXPECT_FALSE(model.on_key(Key::Enter, t0).has_value());
}

TEST_F(OverlayModelTest, EnterShowsARunningGuestAndStartsAStoppedOne) {
    EXPECT_EQ(model.on_key(Key::Enter, t0), (OverlayCommand{Kind::ShowGuest, Action::Start, "alpha"}));
    model.on_key(Key::Down, t0);
    EXPECT_EQ(model.on_key(Key::Enter, t0), (OverlayCommand{Kind::GuestAction, Action::Start, "bravo"}));
}

TEST_F(OverlayModelTest, ActionsOnlyWhereTheyMakeSense) {
    EXPECT_FALSE(model.on_key(Key::Start, t0).has_value()) << "alpha already runs";
    EXPECT_EQ(model.on_key(Key::Shutdown, t0), (OverlayCommand{Kind::GuestAction, Action::Shutdown, "alpha"}));
    model.on_key(Key::Down, t0);
    EXPECT_FALSE(model.on_key(Key::Shutdown, t0).has_value()) << "bravo is off";
    EXPECT_FALSE(model.on_key(Key::ForceOff, t0).has_value());
    EXPECT_TRUE(model.pending_force_off().empty());
    // A crashed guest without D-Bus graphics can be started but not shown.
    model.on_key(Key::Down, t0);
    EXPECT_EQ(model.on_key(Key::Enter, t0), (OverlayCommand{Kind::GuestAction, Action::Start, "charlie"}));
}

TEST_F(OverlayModelTest, ForceOffNeedsASecondPressWithinTheWindow) {
    EXPECT_FALSE(model.on_key(Key::ForceOff, t0).has_value());
    EXPECT_EQ(model.pending_force_off(), "alpha");
    EXPECT_EQ(model.on_key(Key::ForceOff, t0 + std::chrono::seconds(1)),
              (OverlayCommand{Kind::GuestAction, Action::ForceOff, "alpha"}));
    EXPECT_TRUE(model.pending_force_off().empty());

    // Too slow: the second press only arms it again.
    model.on_key(Key::ForceOff, t0);
    EXPECT_FALSE(model.on_key(Key::ForceOff, t0 + std::chrono::seconds(10)).has_value());
    EXPECT_EQ(model.pending_force_off(), "alpha");
    // Moving the selection cancels it.
    model.on_key(Key::Down, t0 + std::chrono::seconds(10));
    EXPECT_TRUE(model.pending_force_off().empty());
}

TEST_F(OverlayModelTest, RemoveOnlyForAShutOffGuestAndAfterASecondPress) {
    EXPECT_FALSE(model.on_key(Key::Remove, t0).has_value());
    EXPECT_TRUE(model.pending_remove().empty()) << "alpha runs";
    model.on_key(Key::Down, t0); // bravo: shut off
    EXPECT_FALSE(model.on_key(Key::Remove, t0).has_value());
    EXPECT_EQ(model.pending_remove(), "bravo");
    EXPECT_TRUE(model.pending_force_off().empty()) << "its own confirmation, not force off's";
    EXPECT_EQ(model.on_key(Key::Remove, t0 + std::chrono::seconds(1)),
              (OverlayCommand{Kind::GuestAction, Action::Remove, "bravo"}));
    EXPECT_TRUE(model.pending_remove().empty());

    // Too slow: the second press only arms it again; a start in between disarms it.
    model.on_key(Key::Remove, t0);
    EXPECT_FALSE(model.on_key(Key::Remove, t0 + std::chrono::seconds(10)).has_value());
    EXPECT_EQ(model.pending_remove(), "bravo");
    model.set_guests({guest("alpha", GuestState::Running), guest("bravo", GuestState::Running),
                      guest("charlie", GuestState::Crashed, false)});
    EXPECT_TRUE(model.pending_remove().empty()) << "bravo started meanwhile";
    EXPECT_FALSE(model.on_key(Key::Remove, t0 + std::chrono::seconds(11)).has_value());
    EXPECT_FALSE(model.on_key(Key::Remove, t0 + std::chrono::seconds(11)).has_value()) << "never for a running guest";
}

TEST_F(OverlayModelTest, AdoptionOnlyForUnusableGraphicsAndAfterConfirmation) {
    EXPECT_FALSE(model.on_key(Key::Adopt, t0).has_value());
    EXPECT_TRUE(model.pending_adopt().empty()) << "alpha already has a D-Bus display";
    model.on_key(Key::End, t0); // charlie: SPICE
    EXPECT_FALSE(model.on_key(Key::Adopt, t0).has_value());
    EXPECT_EQ(model.pending_adopt(), "charlie");
    EXPECT_EQ(model.on_key(Key::Adopt, t0 + std::chrono::seconds(1)),
              (OverlayCommand{Kind::Adopt, Action::Start, "charlie"}));
    EXPECT_TRUE(model.pending_adopt().empty());
}

TEST_F(OverlayModelTest, EKeyEjectsTheSelectedGuestsInstaller) {
    GuestInfo installing = guest("delta", GuestState::Running);
    installing.installer_attached = true;
    model.set_guests({guest("alpha", GuestState::Running), installing});
    EXPECT_FALSE(OverlayModel::can_eject(*model.selected_guest())) << "no eject button without an installer";
    model.on_key(Key::Down, t0);
    EXPECT_TRUE(OverlayModel::can_eject(*model.selected_guest()));
    EXPECT_EQ(model.on_key(Key::Eject, t0), (OverlayCommand{Kind::GuestAction, Action::Eject, "delta"}))
        << "one press: nothing is lost, a reboot would only start setup again";
    model.on_key(Key::Up, t0);
    EXPECT_EQ(model.on_key(Key::Eject, t0), (OverlayCommand{Kind::GuestAction, Action::Eject, "alpha"}))
        << "the agent answers for a guest without a recorded installer";
    model.set_guests({});
    EXPECT_FALSE(model.on_key(Key::Eject, t0).has_value()) << "nothing selected";
}

TEST_F(OverlayModelTest, NewGuestPicksAnInstallerOrGoesBack) {
    model.set_installers({"/isos/a.iso", "/isos/b.iso"});
    EXPECT_TRUE(model.choosing_installer());
    EXPECT_FALSE(model.on_key(Key::Start, t0).has_value()) << "guest keys do nothing while choosing";
    model.on_key(Key::Down, t0);
    model.on_key(Key::Down, t0);
    EXPECT_EQ(model.installer_selection(), 1u);
    EXPECT_EQ(model.on_key(Key::Enter, t0), (OverlayCommand{Kind::PlanGuest, Action::Start, "/isos/b.iso"}))
        << "the card comes next: nothing is made yet";
    EXPECT_FALSE(model.choosing_installer());
    model.set_installers({});
    EXPECT_FALSE(model.on_key(Key::Enter, t0).has_value());
    model.set_installers({"/isos/a.iso"});
    model.on_key(Key::Cancel, t0);
    EXPECT_FALSE(model.choosing_installer());
    EXPECT_EQ(model.selected_guest()->name, "alpha") << "the guest list is as it was";
}

using testing::windows11_plan;

TEST_F(OverlayModelTest, TheNewGuestCardShowsThePlanAndTakesTheUsersSizes) {
    model.set_installers({"/isos/win11.iso"});
    ASSERT_EQ(model.on_key(Key::Enter, t0), (OverlayCommand{Kind::PlanGuest, Action::Start, "/isos/win11.iso"}));
    model.open_card("/isos/win11.iso", "win11");
    ASSERT_NE(model.card(), nullptr);
    EXPECT_EQ(model.card()->blocker(), "looking at the installer…");
    EXPECT_FALSE(model.on_key(Key::Enter, t0).has_value()) << "no creating before the plan is in";
    model.set_card_plan("/isos/other.iso", windows11_plan());
    EXPECT_FALSE(model.card()->plan().has_value()) << "a late answer for another installer is ignored";
    model.set_card_plan("/isos/win11.iso", windows11_plan());
    EXPECT_EQ(model.card()->memory_mb(), 4096);
    EXPECT_EQ(model.card()->disk_gb(), 64);

    model.on_key(Key::Right, t0); // memory up a GB
    EXPECT_EQ(model.card()->memory_mb(), 5120);
    model.on_key(Key::Down, t0);
    model.on_key(Key::Right, t0); // a third CPU
    EXPECT_EQ(model.card()->cpus(), 3);
    model.on_key(Key::Down, t0);
    model.on_key(Key::Left, t0); // the disk below Windows 11's 64 GB: allowed, but said
    EXPECT_EQ(model.card()->disk_gb(), 56);
    ASSERT_EQ(model.card()->warnings().size(), 1u);
    EXPECT_EQ(model.card()->warnings()[0], "Microsoft Windows 11 needs a disk of at least 64 GB");
    for (int i = 0; i < 7; ++i)
        model.on_key(Key::Right, t0); // 112 GB: more than the 100 GB free
    EXPECT_EQ(model.card()->disk_gb(), 112);
    EXPECT_THAT(model.card()->blocker(), ::testing::HasSubstr("only 100 GB are free"));
    EXPECT_FALSE(model.on_key(Key::Enter, t0).has_value());
    model.on_key(Key::Left, t0);
    model.on_key(Key::Left, t0);
    EXPECT_EQ(model.card()->blocker(), "");
    EXPECT_EQ(model.on_key(Key::Enter, t0), (OverlayCommand{Kind::CreateGuest, Action::Start, "/isos/win11.iso"}));
}

TEST_F(OverlayModelTest, ACardWithAProblemCannotCreateAndEscGoesBackToTheInstallers) {
    model.set_installers({"/isos/data.iso"});
    model.on_key(Key::Enter, t0);
    model.open_card("/isos/data.iso", "data");
    guestview::PlanView broken;
    broken.problem = "'/isos/data.iso' is not a bootable installer: it has no boot record";
    model.set_card_plan("/isos/data.iso", broken);
    EXPECT_EQ(model.card()->blocker(), broken.problem);
    EXPECT_FALSE(model.on_key(Key::Enter, t0).has_value());
    model.on_key(Key::Right, t0);
    EXPECT_EQ(model.card()->memory_mb(), 0) << "nothing to change on a refused installer";
    model.on_key(Key::Cancel, t0);
    EXPECT_EQ(model.card(), nullptr);
    EXPECT_TRUE(model.choosing_installer()) << "back to the list, to pick another";
}

TEST_F(OverlayModelTest, ClicksSelectRowsAndPressButtons) {
    OverlayHitMap hits;
    hits.rows = {{0, 0, 100, 40}, {0, 50, 100, 40}, {0, 100, 100, 40}};
    hits.buttons.push_back({{80, 55, 15, 20}, {Kind::GuestAction, Action::Start, "bravo"}});
    hits.buttons.push_back({{80, 5, 15, 20}, {Kind::GuestAction, Action::ForceOff, "alpha"}});
    hits.buttons.push_back({{0, 200, 50, 20}, {Kind::LaunchApp, Action::Start, "0"}});

    EXPECT_FALSE(model.on_click(10, 110, hits, t0).has_value());
    EXPECT_EQ(model.selected_guest()->name, "charlie");
    EXPECT_EQ(model.on_click(85, 60, hits, t0), (OverlayCommand{Kind::GuestAction, Action::Start, "bravo"}));
    EXPECT_EQ(model.selected_guest()->name, "bravo");
    EXPECT_FALSE(model.on_click(85, 10, hits, t0).has_value()) << "force off asks for confirmation by click too";
    EXPECT_EQ(model.on_click(85, 10, hits, t0), (OverlayCommand{Kind::GuestAction, Action::ForceOff, "alpha"}));
    EXPECT_EQ(model.on_click(10, 205, hits, t0), (OverlayCommand{Kind::LaunchApp, Action::Start, "0"}));
    EXPECT_FALSE(model.on_click(500, 500, hits, t0).has_value());
}

TEST_F(OverlayModelTest, AppsAreLaunchedByIndex) {
    EXPECT_FALSE(model.on_key(Key::App, t0, 0).has_value());
    model.set_apps({{"Terminal", "foot"}, {"Manager", "virt-manager"}});
    EXPECT_EQ(model.on_key(Key::App, t0, 1), (OverlayCommand{Kind::LaunchApp, Action::Start, "1"}));
    EXPECT_FALSE(model.on_key(Key::App, t0, 2).has_value());
}

TEST_F(OverlayModelTest, DirtyOnlyWhenSomethingVisibleChanged) {
    EXPECT_TRUE(model.take_dirty());
    EXPECT_FALSE(model.take_dirty());
    model.set_guests(model.guests());
    EXPECT_FALSE(model.take_dirty());
    model.on_key(Key::Up, t0); // already at the top
    EXPECT_FALSE(model.take_dirty());
    model.on_key(Key::Down, t0);
    EXPECT_TRUE(model.take_dirty());
    model.set_notice("alpha crashed", true);
    EXPECT_TRUE(model.take_dirty());
}

// Issue 17: C, T and B start a job on the selected guest; X cancels the newest that runs.
TEST_F(OverlayModelTest, JobKeysActOnTheSelectedGuestAndXCancelsTheNewestRunningJob) {
    using guestview::JobKind;
    model.on_key(Key::Down, t0);
    EXPECT_EQ(model.on_key(Key::Duplicate, t0), (OverlayCommand{Kind::StartJob, Action::Start, "bravo", JobKind::Duplicate}));
    EXPECT_EQ(model.on_key(Key::Snapshot, t0), (OverlayCommand{Kind::StartJob, Action::Start, "bravo", JobKind::SnapshotTake}));
    EXPECT_EQ(model.on_key(Key::Backup, t0), (OverlayCommand{Kind::StartJob, Action::Start, "bravo", JobKind::Backup}));
    EXPECT_FALSE(model.on_key(Key::CancelJob, t0).has_value()) << "no job runs";
    guestview::JobInfo done{3, {JobKind::Backup, "alpha", "/b", "", false}, guestview::JobState::Done};
    guestview::JobInfo running{5, {JobKind::Duplicate, "bravo", "bravo-copy", "", false}};
    model.take_dirty();
    model.set_jobs({running, done});
    EXPECT_TRUE(model.take_dirty()) << "the bars are redrawn";
    EXPECT_EQ(model.on_key(Key::CancelJob, t0), (OverlayCommand{Kind::CancelJob, Action::Start, "5"}));
    model.set_jobs({done});
    EXPECT_FALSE(model.on_key(Key::CancelJob, t0).has_value()) << "a finished job cannot be cancelled";
    model.set_guests({});
    EXPECT_FALSE(model.on_key(Key::Duplicate, t0).has_value()) << "nothing selected";
}

} // namespace
} // namespace phyllome::compositor

// Issue 17: the guest card lists what a guest can become, and each row starts its job.
namespace phyllome::compositor {
namespace {

TEST(GuestCardTest, RowsFollowTheSnapshotsAndEachStartsItsJob) {
    using guestview::JobKind;
    using Row = GuestCard::Row;
    GuestInfo g = guest("win11", GuestState::Running);
    g.snapshots = {{"before the update", 1764900000, true, true}, {"fresh", 1764800000, false, false}};
    GuestCard card(g, {"/home/u/Backups", {"/home/u/Backups/win11-20261204-101500"}, {"qemu+ssh://desk/system"},
                       {"win11", "win11-restored"}});
    std::vector<Row::Kind> kinds;
    for (const Row& r : card.rows())
        kinds.push_back(r.kind);
    EXPECT_EQ(kinds, (std::vector<Row::Kind>{Row::Kind::TakeSnapshot, Row::Kind::Snapshot, Row::Kind::Snapshot,
                                              Row::Kind::BackUp, Row::Kind::Restore, Row::Kind::Export, Row::Kind::Move}));
    EXPECT_EQ(card.enter(), (guestview::JobRequest{JobKind::SnapshotTake, "win11", "", "", false}));
    card.move(1);
    EXPECT_EQ(card.enter(), (guestview::JobRequest{JobKind::SnapshotRevert, "win11", "before the update", "", false}));
    // R arms, R again within 4 s deletes; elsewhere R does nothing.
    const auto t0 = GuestCard::Clock::now();
    EXPECT_FALSE(card.remove(t0));
    EXPECT_EQ(card.pending_delete(), "before the update");
    EXPECT_EQ(card.remove(t0 + std::chrono::seconds(1)),
              (guestview::JobRequest{JobKind::SnapshotDelete, "win11", "before the update", "", false}));
    EXPECT_FALSE(card.remove(t0 + std::chrono::seconds(10))) << "a late second press arms again";
    for (int i = 0; i < 3; ++i)
        card.move(1); // the other snapshot, Back up now, then the backup
    EXPECT_EQ(card.enter(), (guestview::JobRequest{JobKind::Restore, "", "win11-restored-2",
                                                   "/home/u/Backups/win11-20261204-101500", false}))
        << "restored beside the guest, under a free name";
    card.move(1);
    auto exported = card.enter();
    ASSERT_TRUE(exported);
    EXPECT_EQ(exported->kind, JobKind::Export);
    EXPECT_TRUE(exported->target.starts_with("/home/u/Backups/win11-")) << exported->target;
    EXPECT_TRUE(exported->target.ends_with(".phyllome")) << exported->target;
    card.move(1);
    EXPECT_EQ(card.enter(), (guestview::JobRequest{JobKind::Move, "win11", "qemu+ssh://desk/system", "", false}));
    // A snapshot gone: its row goes, the selection stays on the same row.
    g.snapshots.pop_back();
    card.update(g);
    EXPECT_EQ(card.rows().size(), 6u);
    EXPECT_EQ(card.rows()[card.selection()].kind, Row::Kind::Move);
}

TEST_F(OverlayModelTest, OOpensTheGuestCardWhoseEnterRunsItsJobAndClosesIt) {
    auto open = model.on_key(Key::GuestCard, t0);
    EXPECT_EQ(open, (OverlayCommand{Kind::GuestCard, Action::Start, "alpha"}));
    model.open_guest_card(GuestCard(*model.selected_guest(), {"/b", {}, {}, {"alpha"}}));
    ASSERT_NE(model.guest_card(), nullptr);
    auto run = model.on_key(Key::Enter, t0);
    ASSERT_TRUE(run);
    EXPECT_EQ(run->kind, Kind::RunJob);
    EXPECT_EQ(run->request, (guestview::JobRequest{guestview::JobKind::SnapshotTake, "alpha", "", "", false}));
    EXPECT_EQ(model.guest_card(), nullptr) << "the job's bar shows with the guests";
    model.open_guest_card(GuestCard(*model.selected_guest(), {"/b", {}, {}, {"alpha"}}));
    model.set_guests({guest("bravo", GuestState::ShutOff)});
    EXPECT_EQ(model.guest_card(), nullptr) << "the guest left: its card closes";
}

} // namespace
} // namespace phyllome::compositor

// Issue 18: the guest card's USB rows: what the guest remembers of each plugged device, and
// Enter going ask -> always -> never -> ask; the card stays open.
namespace phyllome::compositor {
namespace {

TEST(GuestCardUsbTest, EachPluggedDeviceIsARowWhoseEnterChangesTheRememberedChoice) {
    guestview::usb::UsbDevice stick;
    stick.sysname = "1-2";
    stick.vendor = 0x0781;
    stick.product = 0x5581;
    stick.vendor_name = "SanDisk";
    stick.product_name = "Ultra";
    guestview::GuestInfo g;
    g.name = "win11";
    g.state = guestview::GuestState::Running;
    GuestCard::Places places{"/b", {}, {}, {"win11"}, {stick}};
    GuestCard card(g, places);
    ASSERT_EQ(card.rows().back().kind, GuestCard::Row::Kind::UsbChoice);
    EXPECT_EQ(card.rows().back().label, "SanDisk Ultra: offered, Host+U gives it");
    while (card.selection() + 1 < card.rows().size())
        card.move(1);
    EXPECT_FALSE(card.enter().has_value()) << "no job for a USB row";
    EXPECT_EQ(card.usb_enter(), (GuestCard::UsbChange{"1-2", UsbRemember::Always}));

    g.usb_choices.push_back({{"0781:5581", ""}, true});
    card.update(g);
    EXPECT_EQ(card.rows().back().label, "SanDisk Ultra: always given to win11");
    EXPECT_EQ(card.usb_enter(), (GuestCard::UsbChange{"1-2", UsbRemember::Never}));
    g.usb_choices.back().always = false;
    card.update(g);
    EXPECT_EQ(card.rows().back().label, "SanDisk Ultra: never offered to win11");
    EXPECT_EQ(card.usb_enter(), (GuestCard::UsbChange{"1-2", UsbRemember::Forget}));
    // A choice for another serial is not this device's.
    g.usb_choices = {{{"0781:5581", "OTHER"}, true}};
    card.update(g);
    EXPECT_EQ(card.usb_enter(), (GuestCard::UsbChange{"1-2", UsbRemember::Always}));

    OverlayModel model;
    model.set_guests({g});
    model.open_guest_card(card);
    auto cmd = model.on_key(OverlayModel::Key::Enter, OverlayModel::Clock::now());
    ASSERT_TRUE(cmd);
    EXPECT_EQ(cmd->kind, OverlayCommand::Kind::UsbRemember);
    EXPECT_EQ(cmd->target, "win11");
    EXPECT_EQ(cmd->device, "1-2");
    EXPECT_EQ(cmd->request.target, "always");
    EXPECT_NE(model.guest_card(), nullptr) << "the card stays to show the new choice";
}

} // namespace
} // namespace phyllome::compositor
