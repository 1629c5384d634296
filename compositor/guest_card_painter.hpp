// Draws the overlay's guest card (guest_card.hpp): the guest's name, then one row per action
// with its detail, the selected one highlighted, and the keys that act on it.
#pragma once

#include "compositor/guest_card.hpp"
#include "compositor/new_guest_card_painter.hpp"
#include "compositor/paint_kit.hpp"
#include "config/config.hpp"

namespace phyllome::compositor {

void paint_guest_card(cairo_t* cr, paint::Text& text, const GuestCard& card, const config::OverlayConfig& style,
                      const CardArea& area);

} // namespace phyllome::compositor
