// parse_mode() and to_string(LogLevel).
#include <gtest/gtest.h>

#include "config/config.hpp"

namespace phyllome::config {
namespace {

TEST(ParseMode, SizeOnlyLeavesRefreshToTheOutput) {
    EXPECT_EQ(parse_mode("1280x800"), (Mode{1280, 800, 0}));
    EXPECT_EQ(parse_mode("1x1"), (Mode{1, 1, 0}));
}

TEST(ParseMode, IntegerRefreshIsMillihertz) {
    EXPECT_EQ(parse_mode("1920x1080@60"), (Mode{1920, 1080, 60000}));
    EXPECT_EQ(parse_mode("2560x1440@144"), (Mode{2560, 1440, 144000}));
}

TEST(ParseMode, DecimalRefresh) {
    EXPECT_EQ(parse_mode("1920x1080@59.94"), (Mode{1920, 1080, 59940}));
    EXPECT_EQ(parse_mode("1920x1080@59.9"), (Mode{1920, 1080, 59900}));
    EXPECT_EQ(parse_mode("1920x1080@60.000000"), (Mode{1920, 1080, 60000}));
    // Beyond millihertz precision rounds to nearest.
    EXPECT_EQ(parse_mode("1920x1080@59.9396"), (Mode{1920, 1080, 59940}));
    EXPECT_EQ(parse_mode("1920x1080@59.9394"), (Mode{1920, 1080, 59939}));
    EXPECT_EQ(parse_mode("1920x1080@59.9395"), (Mode{1920, 1080, 59940}));
    EXPECT_EQ(parse_mode("640x480@0.5"), (Mode{640, 480, 500}));
}

TEST(ParseMode, RejectsMalformedText) {
    for (const char* text : {"", "1920", "x1080", "1920x", "1920X1080", "1920*1080", " 1920x1080",
                             "1920x1080 ", "-1920x1080", "+1920x1080", "1920x-1080", "1920x1080@",
                             "1920x1080@60Hz", "1920x1080@.5", "1920x1080@60.", "1920x1080@-60",
                             "1920x1080@6e1", "1920x1080@60@60", "1920x1080x2", "axb"}) {
        EXPECT_EQ(parse_mode(text), std::nullopt) << '"' << text << '"';
    }
}

TEST(ParseMode, RejectsOutOfRangeValues) {
    for (const char* text : {"0x1080", "1920x0", "32768x1080", "99999999999x1080", "1920x1080@0",
                             "1920x1080@0.0", "1920x1080@0.0004", "1920x1080@1001", "1920x1080@99999"}) {
        EXPECT_EQ(parse_mode(text), std::nullopt) << '"' << text << '"';
    }
}

TEST(LogLevelNames, MatchTheConfigValues) {
    EXPECT_EQ(to_string(LogLevel::Error), "error");
    EXPECT_EQ(to_string(LogLevel::Warning), "warning");
    EXPECT_EQ(to_string(LogLevel::Info), "info");
    EXPECT_EQ(to_string(LogLevel::Debug), "debug");
}

} // namespace
} // namespace phyllome::config
