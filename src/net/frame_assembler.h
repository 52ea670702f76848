// FrameAssembler: cuts a TCP byte stream into size-prefixed frames, with bounded memory.
//
// Each frame is a 4-byte big-endian size followed by that many bytes. A size that is zero,
// negative (as int32) or above the limit is an error before any byte of the body is stored.
// The body buffer takes up to kEagerBodyBytes at once (most requests fit, so they are stored
// without regrowing), then grows only as bytes arrive (never beyond twice what has arrived,
// never beyond the announced size), so a client that announces a huge frame and sends little
// holds at most about 1 MiB. Complete frames queue in `ready` until popped; the caller feeds one
// bounded read at a time and drains the queue in between, which bounds the queue.
// Single-threaded: owned by one connection on its shard.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <span>
#include <vector>

#include "base/status.h"
#include "net/frame.h"

namespace cairn::net {

class FrameAssembler {
 public:
  static constexpr size_t kEagerBodyBytes = size_t{1} << 20;

  explicit FrameAssembler(uint32_t frame_bytes_max) : frame_bytes_max_(frame_bytes_max) {}

  // Consumes all of `input`. Returns an error (too_large or invalid_argument) for a bad size
  // prefix; frames completed before it stay poppable, and the assembler refuses further input.
  Status feed(std::span<const uint8_t> input);

  bool has_frame() const { return !ready_.empty(); }
  // REQUIRES: has_frame().
  std::vector<uint8_t> pop_frame();

  // Bytes held for the frame being assembled (size prefix and body so far).
  size_t partial_bytes() const { return size_have_ + body_.size(); }
  // Capacity of the partial body buffer (what it costs in memory).
  size_t partial_capacity_bytes() const { return body_.capacity(); }
  bool failed() const { return failed_; }
  // Applies to frames whose size prefix has not been read yet.
  void set_frame_bytes_max(uint32_t frame_bytes_max) { frame_bytes_max_ = frame_bytes_max; }

 private:
  Status take_size();
  void take_body(std::span<const uint8_t>& input);

  uint32_t frame_bytes_max_;
  std::array<uint8_t, kFrameSizeBytes> size_bytes_{};
  size_t size_have_ = 0;
  uint32_t body_size_ = 0;  // nonzero while a body is being assembled
  std::vector<uint8_t> body_;
  std::deque<std::vector<uint8_t>> ready_;
  bool failed_ = false;
};

}  // namespace cairn::net
