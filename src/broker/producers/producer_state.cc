#include "broker/producers/producer_state.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "base/assert.h"
#include "base/crc32c.h"

namespace cairn::broker::producers {
namespace {

constexpr int32_t kSequenceMax = std::numeric_limits<int32_t>::max();

bool in_sequence(Sequence last, Sequence next) {
  if (last.value() == kSequenceMax) return next.value() == 0;
  return next.value() == last.value() + 1;
}

// Snapshot layout (little endian; docs/format/partition-dir.md):
//   u32 magic "CPS1" | u16 version (3; 1 and 2 are still read) | i64 valid_up_to
//   | [v3: i64 indexed_below] | u32 producer count
//   per producer: i64 producer_id | i16 epoch | [v2: i64 open transaction's first offset or -1
//                 | i64 last marker offset or -1] | u8 batch count (<= 5)
//     per batch: i32 first_sequence | i32 last_sequence | i64 first_offset | i64 last_offset
//                | i64 max_timestamp
//   [v2: u32 aborted count | per aborted transaction: i64 producer_id | i64 first_offset
//        | i64 last_offset | i64 last_stable_offset]
//   u32 crc32c of everything before it
constexpr uint32_t kSnapshotMagic = 0x31535043;  // "CPS1"
constexpr uint16_t kSnapshotVersion = 3;
constexpr size_t kBatchBytes = 4 + 4 + 8 + 8 + 8;
constexpr size_t kProducerBytes = 8 + 2 + 1;
constexpr size_t kAbortedBytes = 4 * 8;
constexpr size_t kHeadBytes = 4 + 2 + 8 + 4;

template <typename T>
void put(std::vector<uint8_t>& out, T value) {
  uint8_t bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));  // the host is little endian (x86-64, arm64)
  out.insert(out.end(), bytes, bytes + sizeof(T));
}

class SnapshotReader {
 public:
  explicit SnapshotReader(std::span<const uint8_t> bytes) : bytes_(bytes) {}
  template <typename T>
  bool get(T* value) {
    if (bytes_.size() - at_ < sizeof(T)) return false;
    std::memcpy(value, bytes_.data() + at_, sizeof(T));
    at_ += sizeof(T);
    return true;
  }
  size_t left() const { return bytes_.size() - at_; }

 private:
  std::span<const uint8_t> bytes_;
  size_t at_ = 0;
};

// One cached batch of a producer in a snapshot.
Result<ProducerBatch> decode_batch(SnapshotReader& reader, int64_t id, int16_t epoch,
                                   int64_t valid_up_to) {
  int32_t first_sequence = 0, last_sequence = 0;
  int64_t first_offset = 0, last_offset = 0, max_timestamp = 0;
  if (!reader.get(&first_sequence) || !reader.get(&last_sequence) || !reader.get(&first_offset) ||
      !reader.get(&last_offset) || !reader.get(&max_timestamp)) {
    return error(StatusCode::corrupt, "producer snapshot: batch");
  }
  if (first_offset < 0 || last_offset < first_offset || last_offset >= valid_up_to) {
    return error(StatusCode::corrupt, "producer snapshot: batch offsets");
  }
  return ProducerBatch{ProducerId(id),
                       ProducerEpoch(epoch),
                       Sequence(first_sequence),
                       Sequence(last_sequence),
                       Offset(first_offset),
                       Offset(last_offset),
                       TimestampMs(max_timestamp)};
}

// The aborted-transaction list of a v2 snapshot.
struct SnapshotHead {
  uint16_t version = 0;
  int64_t valid_up_to = 0;
  int64_t indexed_below = 0;  // 0 before version 3
  uint32_t producer_count = 0;
};

Result<SnapshotHead> decode_head(SnapshotReader& reader) {
  auto corrupt = [](const char* why) {
    return error(StatusCode::corrupt, std::string("producer snapshot: ") + why);
  };
  SnapshotHead head;
  uint32_t magic = 0;
  if (!reader.get(&magic) || magic != kSnapshotMagic) return corrupt("magic");
  if (!reader.get(&head.version) || head.version < 1 || head.version > kSnapshotVersion) {
    return corrupt("version");
  }
  if (!reader.get(&head.valid_up_to) || head.valid_up_to < 0) return corrupt("offset");
  if (head.version >= 3 && (!reader.get(&head.indexed_below) || head.indexed_below < 0 ||
                            head.indexed_below > head.valid_up_to)) {
    return corrupt("indexed offset");
  }
  if (!reader.get(&head.producer_count) || head.producer_count > kProducersPerPartitionMax ||
      head.producer_count > reader.left() / kProducerBytes) {
    return corrupt("count");
  }
  return head;
}

Result<std::vector<AbortedTxn>> decode_aborted(SnapshotReader& reader, int64_t valid_up_to) {
  auto corrupt = [](const char* why) {
    return error(StatusCode::corrupt, std::string("producer snapshot: ") + why);
  };
  std::vector<AbortedTxn> aborted;
  uint32_t aborted_count = 0;
  if (!reader.get(&aborted_count) || aborted_count > reader.left() / kAbortedBytes) {
    return corrupt("aborted count");
  }
  aborted.reserve(aborted_count);
  for (uint32_t i = 0; i < aborted_count; i++) {
    int64_t id = 0, first = 0, last = 0, stable = 0;
    if (!reader.get(&id) || !reader.get(&first) || !reader.get(&last) || !reader.get(&stable)) {
      return corrupt("aborted transaction");
    }
    bool ordered = aborted.empty() || aborted.back().last_offset.value() < last;
    if (id < 0 || first < 0 || last < first || last >= valid_up_to || stable < 0 || !ordered) {
      return corrupt("aborted transaction fields");
    }
    aborted.push_back({ProducerId(id), Offset(first), Offset(last), Offset(stable)});
  }
  return aborted;
}

}  // namespace

Sequence last_sequence_of(Sequence first, int32_t last_offset_delta) {
  ASSERT(first.value() >= 0);
  ASSERT(last_offset_delta >= 0);
  int64_t last = static_cast<int64_t>(first.value()) + last_offset_delta;
  if (last > kSequenceMax) last -= static_cast<int64_t>(kSequenceMax) + 1;
  return Sequence(static_cast<int32_t>(last));
}

SequenceCheck ProducerStateTable::check(const ProducerBatch& batch) const {
  ASSERT(batch.producer_id.value() >= 0);
  auto it = entries_.find(batch.producer_id);
  const Entry* entry = it == entries_.end() ? nullptr : &it->second;
  if (entry != nullptr && batch.epoch < entry->epoch) return {SequenceVerdict::invalid_epoch, {}};
  bool open_here = entry != nullptr && entry->txn_first_offset.value() >= 0;
  if (batch.transactional) {
    auto allowed = allowed_.find(batch.producer_id);
    bool added = allowed != allowed_.end() && allowed->second == batch.epoch;
    if (!added && !(open_here && entry->epoch == batch.epoch)) {
      return {SequenceVerdict::invalid_txn_state, {}};
    }
  } else if (open_here) {
    return {SequenceVerdict::invalid_txn_state, {}};
  }
  if (entry == nullptr) return {SequenceVerdict::append, {}};
  if (batch.epoch > entry->epoch) {
    // A new epoch starts its sequences at 0.
    if (batch.first_sequence.value() != 0) return {SequenceVerdict::out_of_order, {}};
    return {SequenceVerdict::append, {}};
  }
  for (const ProducerBatch& cached : entry->batches) {
    if (cached.first_sequence == batch.first_sequence &&
        cached.last_sequence == batch.last_sequence) {
      return {SequenceVerdict::duplicate, cached};
    }
  }
  if (entry->batches.empty()) return {SequenceVerdict::append, {}};
  if (!in_sequence(entry->batches.back().last_sequence, batch.first_sequence)) {
    return {SequenceVerdict::out_of_order, {}};
  }
  return {SequenceVerdict::append, {}};
}

ProducerStateTable::Entry& ProducerStateTable::entry_for(ProducerId producer_id) {
  auto it = entries_.find(producer_id);
  if (it == entries_.end()) {
    if (entries_.size() >= kProducersPerPartitionMax) evict_one();
    it = entries_.emplace(producer_id, Entry{}).first;
  }
  return it->second;
}

void ProducerStateTable::record(const ProducerBatch& batch) {
  ASSERT(batch.producer_id.value() >= 0);
  ASSERT(batch.first_offset.value() >= 0);
  ASSERT(batch.last_offset >= batch.first_offset);
  Entry& entry = entry_for(batch.producer_id);
  if (batch.epoch < entry.epoch) return;  // replay of a fenced write: nothing to learn
  if (batch.epoch > entry.epoch) {
    entry.epoch = batch.epoch;
    entry.batches.clear();
  }
  entry.batches.push_back(batch);
  while (entry.batches.size() > kBatchesPerProducer) entry.batches.pop_front();
  entry.last_touch = ++touch_counter_;
  if (batch.transactional && entry.txn_first_offset.value() < 0) {
    entry.txn_first_offset = batch.first_offset;
    ongoing_.emplace(batch.first_offset, batch.producer_id);
  }
}

void ProducerStateTable::allow_transaction(ProducerId producer_id, ProducerEpoch epoch) {
  allowed_[producer_id] = epoch;
}

bool ProducerStateTable::marker_allowed(ProducerId producer_id, ProducerEpoch epoch) const {
  const Entry* entry = find(producer_id);
  return entry == nullptr || epoch >= entry->epoch;
}

void ProducerStateTable::complete_transaction(ProducerId producer_id, ProducerEpoch epoch,
                                              bool commit, Offset marker_offset) {
  ASSERT(producer_id.value() >= 0);
  allowed_.erase(producer_id);
  Entry& entry = entry_for(producer_id);
  if (epoch < entry.epoch) return;  // replay of a marker a newer epoch overtook
  if (epoch > entry.epoch) {
    entry.epoch = epoch;
    entry.batches.clear();
  }
  entry.last_touch = ++touch_counter_;
  entry.marker_offset = marker_offset;
  if (entry.txn_first_offset.value() < 0) return;  // nothing of the transaction landed here
  Offset first = entry.txn_first_offset;
  ongoing_.erase(first);
  entry.txn_first_offset = Offset(-1);
  if (commit) return;
  aborted_.push_back({producer_id, first, marker_offset, last_stable_offset(next(marker_offset))});
}

Offset ProducerStateTable::last_stable_offset(Offset high_watermark) const {
  if (ongoing_.empty()) return high_watermark;
  return std::min(ongoing_.begin()->first, high_watermark);
}

std::vector<AbortedTxn> ProducerStateTable::aborted_between(Offset from, Offset upper) const {
  std::vector<AbortedTxn> out;
  auto it = std::lower_bound(aborted_.begin(), aborted_.end(), from,
                             [](const AbortedTxn& a, Offset o) { return a.last_offset < o; });
  for (; it != aborted_.end(); ++it) {
    if (it->first_offset < upper) out.push_back(*it);
    // Every later abort happened with this LSO or a higher one; a transaction that began
    // below `upper` was open then, so the LSO could not pass `upper` while it was: done.
    if (it->last_stable_offset > upper) break;
  }
  return out;
}

void ProducerStateTable::clear() {
  entries_.clear();
  ongoing_.clear();
  aborted_.clear();
  allowed_.clear();
  indexed_below_ = Offset(0);
}

void ProducerStateTable::mark_indexed(Offset offset) {
  ASSERT(offset >= indexed_below_);
  std::erase_if(aborted_, [&](const AbortedTxn& a) { return a.last_offset < offset; });
  indexed_below_ = offset;
}

void ProducerStateTable::forget_below(Offset log_start_offset) {
  std::erase_if(entries_, [&](const auto& item) {
    const Entry& entry = item.second;
    if (entry.txn_first_offset.value() >= 0) return false;
    Offset last = entry.marker_offset;
    if (!entry.batches.empty()) last = std::max(last, entry.batches.back().last_offset);
    return last < log_start_offset;
  });
  std::erase_if(aborted_, [&](const AbortedTxn& a) { return a.last_offset < log_start_offset; });
}

void ProducerStateTable::forget_aborted(ProducerId producer_id, Offset marker_offset) {
  auto it = std::lower_bound(aborted_.begin(), aborted_.end(), marker_offset,
                             [](const AbortedTxn& a, Offset o) { return a.last_offset < o; });
  if (it != aborted_.end() && it->last_offset == marker_offset && it->producer_id == producer_id) {
    aborted_.erase(it);
  }
}

const ProducerStateTable::Entry* ProducerStateTable::find(ProducerId producer_id) const {
  auto it = entries_.find(producer_id);
  return it == entries_.end() ? nullptr : &it->second;
}

void ProducerStateTable::evict_one() {
  // Never a producer whose transaction is open: the LSO depends on it.
  auto oldest = entries_.end();
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->second.txn_first_offset.value() >= 0) continue;
    if (oldest == entries_.end() || it->second.last_touch < oldest->second.last_touch) {
      oldest = it;
    }
  }
  if (oldest != entries_.end()) entries_.erase(oldest);
}

std::vector<uint8_t> ProducerStateTable::encode(Offset valid_up_to, Offset indexed_below) const {
  ASSERT(indexed_below >= indexed_below_);
  std::vector<uint8_t> out;
  out.reserve(kHeadBytes + entries_.size() * (kProducerBytes + 2 * kBatchBytes) + 4);
  put<uint32_t>(out, kSnapshotMagic);
  put<uint16_t>(out, kSnapshotVersion);
  put<int64_t>(out, valid_up_to.value());
  put<int64_t>(out, indexed_below.value());
  put<uint32_t>(out, static_cast<uint32_t>(entries_.size()));
  // Oldest first, so a decode re-creates the same recency order.
  std::vector<std::pair<ProducerId, const Entry*>> sorted;
  sorted.reserve(entries_.size());
  for (const auto& [id, entry] : entries_) sorted.emplace_back(id, &entry);
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    return a.second->last_touch < b.second->last_touch;
  });
  for (const auto& [id, entry] : sorted) {
    ASSERT(entry->batches.size() <= kBatchesPerProducer);
    put<int64_t>(out, id.value());
    put<int16_t>(out, entry->epoch.value());
    put<int64_t>(out, entry->txn_first_offset.value());
    put<int64_t>(out, entry->marker_offset.value());
    put<uint8_t>(out, static_cast<uint8_t>(entry->batches.size()));
    for (const ProducerBatch& batch : entry->batches) {
      put<int32_t>(out, batch.first_sequence.value());
      put<int32_t>(out, batch.last_sequence.value());
      put<int64_t>(out, batch.first_offset.value());
      put<int64_t>(out, batch.last_offset.value());
      put<int64_t>(out, batch.max_timestamp.value());
    }
  }
  auto unindexed =
      std::lower_bound(aborted_.begin(), aborted_.end(), indexed_below,
                       [](const AbortedTxn& a, Offset o) { return a.last_offset < o; });
  put<uint32_t>(out, static_cast<uint32_t>(aborted_.end() - unindexed));
  for (const AbortedTxn& aborted : std::span(unindexed, aborted_.end())) {
    put<int64_t>(out, aborted.producer_id.value());
    put<int64_t>(out, aborted.first_offset.value());
    put<int64_t>(out, aborted.last_offset.value());
    put<int64_t>(out, aborted.last_stable_offset.value());
  }
  put<uint32_t>(out, crc32c::value(out.data(), out.size()));
  return out;
}

Result<Offset> ProducerStateTable::decode(std::span<const uint8_t> bytes) {
  auto corrupt = [](const char* why) {
    return error(StatusCode::corrupt, std::string("producer snapshot: ") + why);
  };
  if (bytes.size() < kHeadBytes + 4) return corrupt("too short");
  uint32_t stored_crc = 0;
  std::memcpy(&stored_crc, bytes.data() + bytes.size() - 4, 4);
  if (crc32c::value(bytes.data(), bytes.size() - 4) != stored_crc) return corrupt("crc");
  SnapshotReader reader(bytes.first(bytes.size() - 4));
  Result<SnapshotHead> head = decode_head(reader);
  if (!head.ok()) return head.status();
  const uint16_t version = head->version;
  const int64_t valid_up_to = head->valid_up_to;
  const int64_t indexed_below = head->indexed_below;
  const uint32_t count = head->producer_count;
  std::unordered_map<ProducerId, Entry> entries;
  std::map<Offset, ProducerId> ongoing;
  std::vector<AbortedTxn> aborted;
  uint64_t touch = 0;
  for (uint32_t i = 0; i < count; i++) {
    int64_t id = 0;
    int16_t epoch = 0;
    int64_t txn_first = -1;
    int64_t marker = -1;
    uint8_t batch_count = 0;
    if (!reader.get(&id) || !reader.get(&epoch) ||
        (version >= 2 && (!reader.get(&txn_first) || !reader.get(&marker))) ||
        !reader.get(&batch_count)) {
      return corrupt("producer");
    }
    if (id < 0 || batch_count > kBatchesPerProducer || entries.count(ProducerId(id)) != 0 ||
        txn_first < -1 || txn_first >= valid_up_to || ongoing.contains(Offset(txn_first)) ||
        marker < -1 || marker >= valid_up_to) {
      return corrupt("producer fields");
    }
    Entry entry;
    entry.epoch = ProducerEpoch(epoch);
    entry.txn_first_offset = Offset(txn_first);
    entry.marker_offset = Offset(marker);
    if (txn_first >= 0) ongoing.emplace(Offset(txn_first), ProducerId(id));
    for (uint8_t b = 0; b < batch_count; b++) {
      Result<ProducerBatch> batch = decode_batch(reader, id, epoch, valid_up_to);
      if (!batch.ok()) return batch.status();
      entry.batches.push_back(*batch);
    }
    entry.last_touch = ++touch;
    entries.emplace(ProducerId(id), std::move(entry));
  }
  if (version >= 2) {
    Result<std::vector<AbortedTxn>> decoded = decode_aborted(reader, valid_up_to);
    if (!decoded.ok()) return decoded.status();
    aborted = std::move(decoded).value();
    if (!aborted.empty() && aborted.front().last_offset.value() < indexed_below) {
      return corrupt("aborted transaction below the indexed offset");
    }
  }
  if (reader.left() != 0) return corrupt("trailing bytes");
  entries_ = std::move(entries);
  ongoing_ = std::move(ongoing);
  aborted_ = std::move(aborted);
  indexed_below_ = Offset(indexed_below);
  allowed_.clear();
  touch_counter_ = touch;
  return Offset(valid_up_to);
}

}  // namespace cairn::broker::producers
