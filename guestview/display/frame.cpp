#include "guestview/display/frame.hpp"

#include <unistd.h>

namespace phyllome::guestview {

Frame::~Frame() {
    if (dmabuf_.fd >= 0)
        ::close(dmabuf_.fd);
}

std::shared_ptr<Frame> Frame::borrowed(FrameGeometry geometry, FrameStorage storage,
                                       const std::uint8_t* pixels, std::shared_ptr<const void> keepalive) {
    auto frame = std::make_shared<Frame>(Key{}, geometry, storage);
    frame->pixels_ = pixels;
    frame->keepalive_ = std::move(keepalive);
    return frame;
}

std::shared_ptr<Frame> Frame::owned(FrameGeometry geometry) {
    auto frame = std::make_shared<Frame>(Key{}, geometry, FrameStorage::OwnedBuffer);
    // Not zeroed: the assembler overwrites the whole buffer before anyone sees it.
    frame->owned_ = std::make_unique_for_overwrite<std::uint8_t[]>(frame->size_bytes());
    frame->pixels_ = frame->owned_.get();
    return frame;
}

std::shared_ptr<Frame> Frame::dmabuf(FrameGeometry geometry, DmabufAttributes attributes) {
    auto frame = std::make_shared<Frame>(Key{}, geometry, FrameStorage::Dmabuf);
    frame->dmabuf_ = attributes;
    return frame;
}

const DmabufAttributes* Frame::dmabuf() const {
    return storage_ == FrameStorage::Dmabuf ? &dmabuf_ : nullptr;
}

std::uint8_t* Frame::writable_pixels() { return owned_.get(); }

std::shared_ptr<const void> Frame::hold_pixels() const {
    if (auto token = hold_.lock())
        return token;
    auto token = std::make_shared<const char>('\0');
    hold_ = token;
    return token;
}

} // namespace phyllome::guestview
