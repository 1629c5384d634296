#include <gtest/gtest.h>

#include <memory>
#include <optional>

#include "compositor/overlay_painter.hpp"
#include "tests/compositor/plan_samples.hpp"

namespace phyllome::compositor {
namespace {

struct Surface {
    explicit Surface(int w, int h) : s(cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h)), cr(cairo_create(s)) {}
    ~Surface() {
        cairo_destroy(cr);
        cairo_surface_destroy(s);
    }
    uint32_t pixel(int x, int y) {
        cairo_surface_flush(s);
        auto* row = reinterpret_cast<uint32_t*>(cairo_image_surface_get_data(s) + y * cairo_image_surface_get_stride(s));
        return row[x] & 0xffffff;
    }
    cairo_surface_t* s;
    cairo_t* cr;
};

guestview::GuestInfo guest(std::string name, guestview::GuestState st) {
    guestview::GuestInfo g;
    g.name = std::move(name);
    g.state = st;
    g.graphics = guestview::GraphicsSupport::DbusP2P;
    return g;
}

TEST(OverlayPainter, LaysOutARowAndTheRightButtonsPerGuest) {
    OverlayModel model;
    guestview::ConnectionStatus c;
    c.state = guestview::ConnectionState::Connected;
    model.set_connection(c);
    model.set_guests({guest("alpha", guestview::GuestState::Running), guest("bravo", guestview::GuestState::ShutOff)});
    config::OverlayConfig style;
    Surface surf(1280, 800);
    OverlayPaintInput in{1280, 800, 1.0, &model, &style, "status", "help"};
    OverlayHitMap hits = paint_overlay(surf.cr, in);

    ASSERT_EQ(hits.rows.size(), 2u);
    EXPECT_LT(hits.rows[0].y + hits.rows[0].height, hits.rows[1].y) << "rows do not overlap";
    int alpha_buttons = 0, bravo_buttons = 0;
    bool alpha_can_start = false, alpha_can_remove = false, bravo_can_remove = false;
    for (const auto& b : hits.buttons) {
        EXPECT_GE(b.rect.x, 0);
        EXPECT_LE(b.rect.x + b.rect.width, 1280);
        const bool remove = b.command.kind == OverlayCommand::Kind::GuestAction && b.command.action == guestview::Action::Remove;
        if (b.command.target == "alpha") {
            ++alpha_buttons;
            alpha_can_start |= b.command.kind == OverlayCommand::Kind::GuestAction &&
                               b.command.action == guestview::Action::Start;
            alpha_can_remove |= remove;
        }
        if (b.command.target == "bravo") {
            ++bravo_buttons;
            bravo_can_remove |= remove;
        }
    }
    EXPECT_EQ(alpha_buttons, 3) << "show, shut down, force off";
    EXPECT_FALSE(alpha_can_start);
    EXPECT_FALSE(alpha_can_remove) << "a running guest is never removed";
    EXPECT_EQ(bravo_buttons, 2) << "start and remove";
    EXPECT_TRUE(bravo_can_remove);
    // Background where nothing is drawn, something else inside the selected row.
    EXPECT_EQ(surf.pixel(5, 400), style.background);
    EXPECT_NE(surf.pixel(hits.rows[0].x + 5, hits.rows[0].y + hits.rows[0].height / 2), style.background);
    // The running guest's row has a place for its live thumbnail, inside the row and clear of the
    // buttons, in its screen's 16:10 shape; the shut-off one has none.
    ASSERT_EQ(hits.thumbnails.size(), 1u);
    const auto& t = hits.thumbnails[0];
    EXPECT_EQ(t.guest, "alpha");
    EXPECT_GE(t.rect.x, hits.rows[0].x);
    EXPECT_GE(t.rect.y, hits.rows[0].y);
    EXPECT_LE(t.rect.y + t.rect.height, hits.rows[0].y + hits.rows[0].height);
    EXPECT_NEAR(static_cast<double>(t.rect.width) / t.rect.height, 1.6, 0.05);
    for (const auto& b : hits.buttons)
        EXPECT_TRUE(b.rect.x >= t.rect.x + t.rect.width || b.rect.y >= t.rect.y + t.rect.height) << "a button covers it";
}

// Host applications' open windows are buttons below the apps, each showing its window.
TEST(OverlayPainter, OpenWindowsAreButtonsThatShowThemBelowTheApps) {
    OverlayModel model;
    model.set_guests({guest("alpha", guestview::GuestState::Running)});
    model.set_apps({{"Terminal", "foot"}});
    model.set_windows({{7, "foot", 2}, {9, "virt-manager", 3}});
    config::OverlayConfig style;
    Surface surf(1280, 800);
    OverlayPaintInput in{1280, 800, 1.0, &model, &style, "status", "help"};
    OverlayHitMap hits = paint_overlay(surf.cr, in);
    std::optional<OverlayRect> app, first, second;
    for (const auto& b : hits.buttons) {
        if (b.command.kind == OverlayCommand::Kind::LaunchApp)
            app = b.rect;
        if (b.command.kind == OverlayCommand::Kind::ShowWindow)
            (b.command.target == "7" ? first : second) = b.rect;
    }
    ASSERT_TRUE(app && first && second);
    EXPECT_GE(first->y, app->y + app->height) << "the windows' row overlaps the apps'";
    EXPECT_EQ(first->y, second->y);
    EXPECT_GE(second->x, first->x + first->width);
    EXPECT_NE(surf.pixel(first->x + 3, first->y + first->height / 2), style.background);
    const auto clicked = model.on_click(first->x + 5, first->y + 5, hits, OverlayModel::Clock::now());
    ASSERT_TRUE(clicked);
    EXPECT_EQ(clicked->kind, OverlayCommand::Kind::ShowWindow);
    EXPECT_EQ(clicked->target, "7");
}

TEST(OverlayPainter, ScalesToHiDpiAndShowsConnectionFailures) {
    OverlayModel model;
    guestview::ConnectionStatus c;
    c.state = guestview::ConnectionState::Failed;
    c.uri = "qemu:///system";
    c.error = "Failed to connect socket";
    c.retry_in = std::chrono::milliseconds(4000);
    model.set_connection(c);
    config::OverlayConfig style;
    Surface surf(1280 * 2, 800 * 2);
    OverlayPaintInput in{1280, 800, 2.0, &model, &style, "", "help"};
    OverlayHitMap hits = paint_overlay(surf.cr, in);
    EXPECT_TRUE(hits.rows.empty());
    // The failure box is tinted with the error colour somewhere in the top third.
    int reddish = 0;
    for (int y = 0; y < 1600 / 3; y += 2)
        for (int x = 0; x < 2560; x += 4) {
            uint32_t p = surf.pixel(x, y);
            if (((p >> 16) & 0xff) > ((p >> 8) & 0xff) + 20)
                ++reddish;
        }
    EXPECT_GT(reddish, 1000);
}

} // namespace
} // namespace phyllome::compositor

namespace phyllome::compositor {
namespace {

// Pixels of exactly `rgb`: the error colour appears only where something is refused.
int count_colour(Surface& surf, int w, int h, std::uint32_t rgb) {
    int n = 0;
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
            n += surf.pixel(x, y) == rgb;
    return n;
}

TEST(OverlayPainter, TheNewGuestCardReplacesTheListAndShowsARefusalInTheErrorColour) {
    OverlayModel model;
    guestview::ConnectionStatus c;
    c.state = guestview::ConnectionState::Connected;
    model.set_connection(c);
    model.set_guests({guest("alpha", guestview::GuestState::Running)});
    model.open_card("/isos/win11.iso", "win11");
    config::OverlayConfig style;
    Surface surf(1280, 800);
    OverlayPaintInput in{1280, 800, 1.0, &model, &style, "status", "help"};
    OverlayHitMap hits = paint_overlay(surf.cr, in);
    EXPECT_TRUE(hits.rows.empty()) << "the card stands in for the guest list";
    EXPECT_TRUE(hits.buttons.empty());

    guestview::PlanView plan = testing::windows11_plan();
    model.set_card_plan("/isos/win11.iso", plan);
    paint_overlay(surf.cr, in);
    EXPECT_EQ(count_colour(surf, 1280, 800, style.error & 0xffffff), 0) << "nothing refused";

    plan.problem = "Microsoft Windows 11 needs a TPM 2.0, which libvirt emulates with swtpm";
    model.close_card();
    model.open_card("/isos/win11.iso", "win11");
    model.set_card_plan("/isos/win11.iso", plan);
    paint_overlay(surf.cr, in);
    EXPECT_GT(count_colour(surf, 1280, 800, style.error & 0xffffff), 20) << "the problem is drawn in the error colour";
}

} // namespace
} // namespace phyllome::compositor

// Issue 18: the USB devices are listed under the guests, one clickable row each, tinted when a
// guest has the device; a click gives the device to the selected guest.
namespace phyllome::compositor {
namespace {

UsbEntry usb_entry(std::string sysname, std::string owner) {
    UsbEntry e;
    e.device.sysname = std::move(sysname);
    e.device.vendor = 0x0781;
    e.device.product = 0x5581;
    e.device.vendor_name = "SanDisk";
    e.device.product_name = "Ultra";
    e.device.kinds = guestview::usb::Storage;
    e.owner = std::move(owner);
    return e;
}

TEST(OverlayPainter, EachUsbDeviceIsARowAClickGivesToTheSelectedGuest) {
    OverlayModel model;
    guestview::ConnectionStatus c;
    c.state = guestview::ConnectionState::Connected;
    model.set_connection(c);
    model.set_guests({guest("alpha", guestview::GuestState::Running), guest("bravo", guestview::GuestState::Running)});
    config::OverlayConfig style;
    Surface plain(1280, 800);
    OverlayPaintInput in{1280, 800, 1.0, &model, &style, "status", "help"};
    EXPECT_TRUE(paint_overlay(plain.cr, in).usb_rows.empty()) << "no device, no list";

    model.set_usb({usb_entry("1-2", ""), usb_entry("1-3", "bravo")});
    Surface surf(1280, 800);
    OverlayHitMap hits = paint_overlay(surf.cr, in);
    ASSERT_EQ(hits.usb_rows.size(), 2u);
    EXPECT_EQ(hits.usb_rows[0].device, "1-2");
    const OverlayRect a = hits.usb_rows[0].rect, b = hits.usb_rows[1].rect;
    EXPECT_GT(a.y, hits.rows[1].y + hits.rows[1].height) << "below the guests";
    EXPECT_LT(a.y + a.height, b.y) << "rows do not overlap";
    EXPECT_LE(b.y + b.height, 800);
    // The row of a device a guest has is tinted with the accent colour; the host's is not.
    const std::uint32_t free_bg = surf.pixel(a.x + a.width / 2, a.y + 2);
    const std::uint32_t held_bg = surf.pixel(b.x + b.width / 2, b.y + 2);
    EXPECT_NE(free_bg, held_bg);
    EXPECT_NE(free_bg, surf.pixel(a.x + a.width / 2, a.y - 3)) << "the row is not drawn";

    // Clicks: to the selected guest (alpha, the first).
    auto now = OverlayModel::Clock::now();
    auto cmd = model.on_click(a.x + 20, a.y + a.height / 2, hits, now);
    ASSERT_TRUE(cmd);
    EXPECT_EQ(cmd->kind, OverlayCommand::Kind::Usb);
    EXPECT_EQ(cmd->device, "1-2");
    EXPECT_EQ(cmd->target, "alpha");
    // U acts on the selected guest too.
    model.on_key(OverlayModel::Key::Down, now);
    auto key = model.on_key(OverlayModel::Key::Usb, now);
    ASSERT_TRUE(key);
    EXPECT_EQ(key->kind, OverlayCommand::Kind::Usb);
    EXPECT_EQ(key->target, "bravo");
    EXPECT_EQ(key->device, "");
    model.take_dirty();
    model.set_usb({usb_entry("1-2", "")});
    EXPECT_TRUE(model.take_dirty());
    model.set_usb({usb_entry("1-2", "")});
    EXPECT_FALSE(model.take_dirty());
}

} // namespace
} // namespace phyllome::compositor
