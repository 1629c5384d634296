#include "guestview/display/frame.hpp"

#include <unistd.h>

namespace phyllome::guestview {

Frame::~Frame() {
    for (std::uint32_t i = 0; i < dmabuf_.num_planes && i < max_dmabuf_planes; ++i)
        if (dmabuf_.planes[i].fd >= 0)
            ::close(dmabuf_.planes[i].fd);
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

void Frame::catch_up_later(std::shared_ptr<const Frame> source, StaleTiles stale, std::shared_ptr<FrameStats> stats) {
    catch_up_source_ = std::move(source);
    catch_up_tiles_ = std::move(stale);
    catch_up_stats_ = std::move(stats);
}

std::size_t Frame::prepare_write(const Rect& r) {
    if (!catch_up_source_)
        return 0;
    const std::size_t bytes = catch_up_tiles_.copy_partly_covered(r, catch_up_source_->pixels(), owned_.get(),
                                                                  geometry_.stride, geometry_.format.bytes_per_pixel);
    count_catch_up(bytes);
    return bytes;
}

void Frame::finish_catch_up() const {
    const auto source = std::move(catch_up_source_); // cleared first: reading it must not come back here
    count_catch_up(catch_up_tiles_.copy_marked(source->pixels(), owned_.get(), geometry_.stride,
                                               geometry_.format.bytes_per_pixel));
}

void Frame::count_catch_up(std::size_t bytes) const {
    if (bytes == 0 || !catch_up_stats_)
        return;
    ++catch_up_stats_->copies;
    catch_up_stats_->bytes_copied += bytes;
}

std::shared_ptr<const void> Frame::hold_pixels() const {
    if (auto token = hold_.lock())
        return token;
    auto token = std::make_shared<const char>('\0');
    hold_ = token;
    return token;
}

} // namespace phyllome::guestview
