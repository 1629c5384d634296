#include "session/firmware_descriptor.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>

namespace phyllome::session {
namespace {

// A JSON value as far as descriptors need one: numbers, booleans and null are kept as their text.
struct Value {
    enum class Kind { Scalar, String, Array, Object } kind = Kind::Scalar;
    std::string text;
    std::vector<Value> items;       // an array's, or an object's values
    std::vector<std::string> keys;  // an object's keys, parallel to items

    const Value* member(std::string_view key) const {
        for (std::size_t i = 0; i < keys.size(); ++i)
            if (keys[i] == key)
                return &items[i];
        return nullptr;
    }
};

// Descriptors nest four deep; the limit keeps a hostile file from exhausting the stack.
constexpr int max_depth = 32;

class Parser {
public:
    explicit Parser(std::string_view text) : text_(text) {}

    std::optional<Value> document(std::string& error) {
        Value v;
        if (!value(v, 0) || (skip_space(), pos_ != text_.size())) {
            error = error_.empty() ? "trailing text after the JSON value" : error_;
            error += " at byte " + std::to_string(pos_);
            return std::nullopt;
        }
        return v;
    }

private:
    bool fail(std::string why) {
        if (error_.empty())
            error_ = std::move(why);
        return false;
    }

    void skip_space() {
        while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r'))
            ++pos_;
    }

    bool eat(char c) {
        skip_space();
        if (pos_ < text_.size() && text_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }

    bool value(Value& v, int depth) {
        if (depth > max_depth)
            return fail("nested too deep");
        skip_space();
        if (pos_ >= text_.size())
            return fail("unexpected end");
        const char c = text_[pos_];
        if (c == '{')
            return object(v, depth);
        if (c == '[')
            return array(v, depth);
        if (c == '"') {
            v.kind = Value::Kind::String;
            return string(v.text);
        }
        return scalar(v);
    }

    bool object(Value& v, int depth) {
        v.kind = Value::Kind::Object;
        ++pos_; // '{'
        if (eat('}'))
            return true;
        do {
            skip_space();
            std::string key;
            if (pos_ >= text_.size() || text_[pos_] != '"' || !string(key))
                return fail("expected a member name");
            if (!eat(':'))
                return fail("expected ':'");
            Value member;
            if (!value(member, depth + 1))
                return false;
            v.keys.push_back(std::move(key));
            v.items.push_back(std::move(member));
        } while (eat(','));
        return eat('}') || fail("expected ',' or '}'");
    }

    bool array(Value& v, int depth) {
        v.kind = Value::Kind::Array;
        ++pos_; // '['
        if (eat(']'))
            return true;
        do {
            Value item;
            if (!value(item, depth + 1))
                return false;
            v.items.push_back(std::move(item));
        } while (eat(','));
        return eat(']') || fail("expected ',' or ']'");
    }

    bool scalar(Value& v) {
        const std::size_t start = pos_;
        while (pos_ < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '-' ||
                                       text_[pos_] == '+' || text_[pos_] == '.'))
            ++pos_;
        v.text = std::string(text_.substr(start, pos_ - start));
        const bool number = !v.text.empty() && (v.text[0] == '-' || std::isdigit(static_cast<unsigned char>(v.text[0])));
        return number || v.text == "true" || v.text == "false" || v.text == "null" || fail("unexpected character");
    }

    static void append_utf8(std::string& out, std::uint32_t cp) {
        if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xC0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out += static_cast<char>(0xE0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
            out += static_cast<char>(0xF0 | (cp >> 18));
            out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        }
    }

    bool hex4(std::uint32_t& cp) {
        if (text_.size() - pos_ < 4)
            return fail("short \\u escape");
        cp = 0;
        for (int i = 0; i < 4; ++i) {
            const char h = text_[pos_++];
            cp <<= 4;
            if (h >= '0' && h <= '9')
                cp |= static_cast<std::uint32_t>(h - '0');
            else if (h >= 'a' && h <= 'f')
                cp |= static_cast<std::uint32_t>(h - 'a' + 10);
            else if (h >= 'A' && h <= 'F')
                cp |= static_cast<std::uint32_t>(h - 'A' + 10);
            else
                return fail("bad \\u escape");
        }
        return true;
    }

    bool string(std::string& out) {
        ++pos_; // '"'
        while (pos_ < text_.size()) {
            const char c = text_[pos_++];
            if (c == '"')
                return true;
            if (static_cast<unsigned char>(c) < 0x20)
                return fail("control character in a string");
            if (c != '\\') {
                out += c;
                continue;
            }
            if (pos_ >= text_.size())
                break;
            switch (const char e = text_[pos_++]) {
            case '"': case '\\': case '/': out += e; break;
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            case 't': out += '\t'; break;
            case 'u': {
                std::uint32_t cp = 0;
                if (!hex4(cp))
                    return false;
                // A high surrogate takes the low one after it; a lone one becomes U+FFFD.
                if (cp >= 0xD800 && cp < 0xDC00 && text_.substr(pos_, 2) == "\\u") {
                    pos_ += 2;
                    std::uint32_t low = 0;
                    if (!hex4(low))
                        return false;
                    cp = low >= 0xDC00 && low < 0xE000 ? 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00) : 0xFFFD;
                } else if (cp >= 0xD800 && cp < 0xE000) {
                    cp = 0xFFFD;
                }
                append_utf8(out, cp);
                break;
            }
            default: return fail("bad escape");
            }
        }
        return fail("unterminated string");
    }

    std::string_view text_;
    std::size_t pos_ = 0;
    std::string error_;
};

std::string string_of(const Value* v) {
    return v != nullptr && v->kind == Value::Kind::String ? v->text : std::string();
}

std::vector<std::string> strings_of(const Value* v) {
    std::vector<std::string> out;
    if (v != nullptr && v->kind == Value::Kind::Array)
        for (const Value& item : v->items)
            if (item.kind == Value::Kind::String)
                out.push_back(item.text);
    return out;
}

bool contains(const std::vector<std::string>& list, std::string_view s) {
    return std::ranges::find(list, s) != list.end();
}

} // namespace

bool FirmwareDescriptor::has(std::string_view feature) const { return contains(features, feature); }

bool FirmwareDescriptor::x86_64_uefi() const {
    return contains(interface_types, "uefi") && contains(architectures, "x86_64");
}

bool FirmwareDescriptor::windows_secure_boot() const {
    return x86_64_uefi() && has("secure-boot") && has("enrolled-keys");
}

std::optional<FirmwareDescriptor> parse_firmware_descriptor(std::string_view json, std::string& error) {
    const std::optional<Value> doc = Parser(json).document(error);
    if (!doc)
        return std::nullopt;
    if (doc->kind != Value::Kind::Object) {
        error = "not a JSON object";
        return std::nullopt;
    }
    FirmwareDescriptor d;
    d.description = string_of(doc->member("description"));
    d.interface_types = strings_of(doc->member("interface-types"));
    d.features = strings_of(doc->member("features"));
    if (const Value* targets = doc->member("targets"); targets != nullptr && targets->kind == Value::Kind::Array)
        for (const Value& t : targets->items)
            if (t.kind == Value::Kind::Object)
                if (std::string arch = string_of(t.member("architecture")); !arch.empty())
                    d.architectures.push_back(std::move(arch));
    if (const Value* mapping = doc->member("mapping"); mapping != nullptr && mapping->kind == Value::Kind::Object) {
        d.device = string_of(mapping->member("device"));
        const Value* executable = mapping->member("executable");
        d.executable = executable != nullptr && executable->kind == Value::Kind::Object
                           ? string_of(executable->member("filename"))
                           : string_of(mapping->member("filename"));
    }
    return d;
}

std::vector<std::string> firmware_descriptor_files(const std::string& sysroot) {
    namespace fs = std::filesystem;
    std::vector<fs::path> dirs{sysroot + "/usr/share/qemu/firmware", sysroot + "/etc/qemu/firmware"};
    if (sysroot.empty()) {
        const char* config = std::getenv("XDG_CONFIG_HOME");
        const char* home = std::getenv("HOME");
        if (config != nullptr && *config == '/')
            dirs.emplace_back(std::string(config) + "/qemu/firmware");
        else if (home != nullptr && *home == '/')
            dirs.emplace_back(std::string(home) + "/.config/qemu/firmware");
    }
    std::map<std::string, fs::path> by_name; // sorted by file name, later directories winning
    for (const fs::path& dir : dirs) {
        std::error_code ec;
        for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
            if (it->path().extension() == ".json")
                by_name[it->path().filename().string()] = it->path();
    }
    std::vector<std::string> out;
    for (const auto& [name, path] : by_name) {
        std::error_code ec;
        if (fs::file_size(path, ec) > 0 && !ec)
            out.push_back(path.string());
    }
    return out;
}

} // namespace phyllome::session
