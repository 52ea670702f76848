#include "net/frame_assembler.h"

#include <algorithm>
#include <string>

#include "base/assert.h"

namespace cairn::net {

Status FrameAssembler::feed(std::span<const uint8_t> input) {
  if (failed_) return error(StatusCode::invalid_argument, "connection already failed framing");
  while (!input.empty()) {
    if (body_size_ == 0) {
      size_t take = std::min(kFrameSizeBytes - size_have_, input.size());
      std::copy_n(input.begin(), take, size_bytes_.begin() + static_cast<ptrdiff_t>(size_have_));
      size_have_ += take;
      input = input.subspan(take);
      if (size_have_ < kFrameSizeBytes) break;
      Status status = take_size();
      if (!status.ok()) {
        failed_ = true;
        return status;
      }
      continue;
    }
    take_body(input);
  }
  return Status::ok_status();
}

Status FrameAssembler::take_size() {
  ASSERT(size_have_ == kFrameSizeBytes);
  uint32_t raw = (uint32_t{size_bytes_[0]} << 24) | (uint32_t{size_bytes_[1]} << 16) |
                 (uint32_t{size_bytes_[2]} << 8) | uint32_t{size_bytes_[3]};
  int32_t size = static_cast<int32_t>(raw);
  if (size <= 0) {
    return error(StatusCode::invalid_argument, "frame size " + std::to_string(size) + " <= 0");
  }
  if (raw > frame_bytes_max_) {
    return error(StatusCode::too_large, "frame size " + std::to_string(raw) + " above max " +
                                            std::to_string(frame_bytes_max_));
  }
  body_size_ = raw;
  ASSERT(body_.empty());
  return Status::ok_status();
}

void FrameAssembler::take_body(std::span<const uint8_t>& input) {
  ASSERT(body_size_ > 0);
  ASSERT(body_.size() < body_size_);
  size_t take = std::min<size_t>(body_size_ - body_.size(), input.size());
  size_t needed = body_.size() + take;
  if (needed > body_.capacity()) {
    // Grow geometrically for amortised copies, but never past the announced size.
    size_t target = std::max({needed, 2 * body_.capacity(), kEagerBodyBytes});
    body_.reserve(std::min<size_t>(body_size_, target));
  }
  body_.insert(body_.end(), input.begin(), input.begin() + static_cast<ptrdiff_t>(take));
  input = input.subspan(take);
  ASSERT(body_.size() <= body_size_);
  if (body_.size() == body_size_) {
    ready_.push_back(std::move(body_));
    body_ = {};
    body_size_ = 0;
    size_have_ = 0;
  }
}

std::vector<uint8_t> FrameAssembler::pop_frame() {
  ASSERT(!ready_.empty());
  std::vector<uint8_t> frame = std::move(ready_.front());
  ready_.pop_front();
  return frame;
}

}  // namespace cairn::net
