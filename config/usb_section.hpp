// The [usb] section: the Host+U key, the ask-first kinds and the [[usb.device]] rules.
#pragma once

#include "config/config.hpp"
#include "config/diagnostic_sink.hpp"
#include "config/table_reader.hpp"

namespace phyllome::config::detail {

void read_usb(TableReader& reader, DiagnosticSink& sink, UsbConfig& usb);

} // namespace phyllome::config::detail
