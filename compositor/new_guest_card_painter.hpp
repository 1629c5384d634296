// Draws the overlay's new-guest card (new_guest_card.hpp): the OS the installer holds, the
// sizes the user sets, what the machine gets, and what stops or worries creation.
#pragma once

#include <cairo.h>

#include "compositor/new_guest_card.hpp"
#include "compositor/paint_kit.hpp"
#include "config/config.hpp"

namespace phyllome::compositor {

struct CardArea {
    double left = 0, top = 0;
    int width = 0;
    double base = 11; // the overlay's font size
};

void paint_new_guest_card(cairo_t* cr, paint::Text& text, const NewGuestCard& card, const config::OverlayConfig& style,
                          const CardArea& area);

} // namespace phyllome::compositor
