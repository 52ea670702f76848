#include "broker/partitions/compaction.h"

#include <algorithm>
#include <map>
#include <memory>
#include <vector>

#include "base/units.h"
#include "broker/partitions/transactions.h"
#include "protocol/compression.h"

namespace cairn::broker {
namespace {

// A compressed batch the cleaner cannot expand within this is kept whole, uncompacted.
constexpr size_t kCleanerDecompressedBytesMax = 64 * MiB;

// The cleaner's codecs for compressed batches: protocol's (storage sits beside it).
void set_cleaner_codecs(storage::CleanOptions& options) {
  options.decompress = [](model::Compression codec, std::span<const uint8_t> payload) {
    return protocol::compression::decompress(codec, payload, kCleanerDecompressedBytesMax);
  };
  options.compress = [](model::Compression codec, std::span<const uint8_t> records,
                        std::span<const uint8_t> original) {
    // Keep the framing the producer chose: the Java client writes xerial-framed snappy.
    bool xerial =
        codec == model::Compression::snappy && protocol::compression::is_xerial_snappy(original);
    return protocol::compression::compress(codec, records,
                                           xerial ? protocol::compression::SnappyFraming::xerial
                                                  : protocol::compression::SnappyFraming::raw);
  };
}

}  // namespace

Result<storage::CleanOptions> partition_clean_options(Partition& partition,
                                                      uint64_t key_map_bytes) {
  storage::CleanOptions options;
  options.upper_bound = partition.last_stable_offset();
  options.key_map_bytes = key_map_bytes;
  set_cleaner_codecs(options);
  // Records of aborted transactions go (their markers later): the aborted list as of now,
  // per producer, by marker offset. Nothing at or past the upper bound (the LSO) is cleaned,
  // so every transaction below it is complete and already in the list if it was aborted.
  Result<std::vector<producers::AbortedTxn>> listed = all_aborted(partition);
  if (!listed.ok()) return listed.status();
  auto aborted = std::make_shared<std::map<int64_t, std::vector<producers::AbortedTxn>>>();
  for (const producers::AbortedTxn& a : *listed) (*aborted)[a.producer_id.value()].push_back(a);
  options.discard = [aborted](const storage::BatchHeader& header) {
    if (!header.is_transactional() || header.is_control()) return false;
    auto it = aborted->find(header.producer_id.value());
    if (it == aborted->end()) return false;
    const std::vector<producers::AbortedTxn>& list = it->second;
    auto found = std::lower_bound(
        list.begin(), list.end(), header.base_offset,
        [](const producers::AbortedTxn& a, Offset offset) { return a.last_offset < offset; });
    return found != list.end() && found->first_offset <= header.base_offset;
  };
  // A marker goes only after every batch of its transaction: the aborted entry is not needed
  // any more, and must not outlive the marker (producer_state.h, forget_aborted).
  options.marker_removed = [&partition](const storage::BatchHeader& header) {
    forget_aborted(partition, header.producer_id, header.base_offset);
  };
  return options;
}

}  // namespace cairn::broker
