#include "broker/producers/producer_id_allocator.h"

#include <charconv>
#include <limits>
#include <string>

#include "base/assert.h"
#include "broker/meta_file.h"

namespace cairn::broker::producers {
namespace {

constexpr size_t kFileBytesMax = 64;
constexpr const char* kFileName = "producer_ids";

}  // namespace

Result<std::unique_ptr<ProducerIdAllocator>> ProducerIdAllocator::open(
    const std::filesystem::path& meta_dir, storage::Io& io, int64_t block_size) {
  ASSERT(block_size >= 1);
  std::filesystem::path path = meta_dir / kFileName;
  Result<std::optional<std::string>> text = read_meta_file(io, path, kFileBytesMax);
  if (!text.ok()) return text.status();
  int64_t first_unreserved = 0;
  if (text->has_value()) {
    std::string_view digits = **text;
    while (!digits.empty() && (digits.back() == '\n' || digits.back() == ' ')) {
      digits.remove_suffix(1);
    }
    auto [end, ec] =
        std::from_chars(digits.data(), digits.data() + digits.size(), first_unreserved);
    if (ec != std::errc() || end != digits.data() + digits.size() || first_unreserved < 0) {
      return error(StatusCode::corrupt, path.string() + ": not a producer id");
    }
  }
  return std::unique_ptr<ProducerIdAllocator>(
      new ProducerIdAllocator(io, std::move(path), first_unreserved, block_size));
}

Result<ProducerId> ProducerIdAllocator::allocate() {
  std::lock_guard<std::mutex> lock(mu_);
  ASSERT(next_ <= block_end_);
  if (next_ == block_end_) {
    if (block_end_ > std::numeric_limits<int64_t>::max() - block_size_) {
      return error(StatusCode::too_large, "producer id space exhausted");
    }
    int64_t new_end = block_end_ + block_size_;
    RETURN_IF_ERROR(write_meta_file(io_, path_, std::to_string(new_end) + "\n"));
    block_end_ = new_end;
  }
  return ProducerId(next_++);
}

}  // namespace cairn::broker::producers
