// Cleaner: planning a run, the key map, and reading the dirty data into it. Rewriting and the
// swap are in cleaner_swap.cc.
#include "storage/cleaner.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "storage/log.h"

namespace cairn::storage {

namespace {

constexpr uint64_t kMultiplier = 0x9E3779B97F4A7C15ull;
constexpr size_t kSlotBytes = 24;  // KeyHash + offset, as documented in CleanOptions
constexpr size_t kKeyMapSlotsMin = 64;

uint64_t mix(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdull;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ull;
  k ^= k >> 33;
  return k;
}

uint64_t hash_lane(std::span<const uint8_t> key, uint64_t seed) {
  uint64_t h = seed ^ (key.size() * kMultiplier);
  size_t i = 0;
  for (; i + 8 <= key.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, key.data() + i, 8);
    h = std::rotl(h ^ mix(word + seed), 27) * kMultiplier + 0x52dce729;
  }
  uint64_t tail = 0;
  std::memcpy(&tail, key.data() + i, key.size() - i);
  h ^= mix(tail ^ (seed >> 1));
  return mix(h);
}

}  // namespace

KeyHash hash_key(std::span<const uint8_t> key) {
  return KeyHash{hash_lane(key, 0x243F6A8885A308D3ull), hash_lane(key, 0x13198A2E03707344ull)};
}

KeyMap::KeyMap(uint64_t bytes) {
  size_t slots = std::bit_floor(std::max<uint64_t>(bytes / kSlotBytes, kKeyMapSlotsMin));
  slots_.resize(slots);
  entries_max_ = slots / 4 * 3;  // probes stay short below 75% load
}

size_t KeyMap::find(const KeyHash& hash) const {
  size_t mask = slots_.size() - 1;
  size_t i = static_cast<size_t>(hash.low) & mask;
  while (slots_[i].offset >= 0 && !(slots_[i].hash == hash)) i = (i + 1) & mask;
  return i;
}

void KeyMap::put(const KeyHash& hash, Offset offset) {
  ASSERT(offset.value() >= 0);
  Slot& slot = slots_[find(hash)];
  if (slot.offset < 0) {
    ASSERT(size_ < entries_max_);
    size_++;
    slot.hash = hash;
  }
  slot.offset = offset.value();
}

std::optional<Offset> KeyMap::get(const KeyHash& hash) const {
  const Slot& slot = slots_[find(hash)];
  if (slot.offset < 0) return std::nullopt;
  return Offset(slot.offset);
}

Cleaner::~Cleaner() = default;

Result<std::unique_ptr<Cleaner>> Cleaner::plan(Log& log, const CleanOptions& options) {
  const LogConfig& config = log.config_;
  std::unique_ptr<Cleaner> cleaner(new Cleaner(log, options));
  if (!config.cleanup_compact) return std::unique_ptr<Cleaner>();
  int64_t now_ms = log.clock_.now_ms();
  CleanerStats& stats = log.cleaner_stats_;
  stats.last_check_ms = now_ms;
  Offset bound = log.active().base_offset();
  if (options.upper_bound.has_value()) bound = std::min(bound, *options.upper_bound);
  for (auto& [base, segment] : log.segments_) {
    if (segment.get() == &log.active() || segment->next_offset() > bound) break;
    if (log.sync_->pending(segment->files().get())) break;  // not durable yet
    if (now_ms - segment->newest_ms() < config.min_compaction_lag_ms) break;
    cleaner->sources_.push_back(Source{segment.get(), segment->files()});
  }
  stats.dirty_ratio = 0;
  stats.dirty_since_ms = -1;
  if (cleaner->sources_.empty()) return std::unique_ptr<Cleaner>();
  Offset first_base = cleaner->sources_.front().segment->base_offset();
  Offset clean_point = std::max(stats.clean_point, first_base);
  uint64_t dirty_bytes = 0;
  uint64_t total_bytes = 0;
  std::optional<size_t> first_dirty;
  for (size_t i = 0; i < cleaner->sources_.size(); i++) {
    Segment& segment = *cleaner->sources_[i].segment;
    total_bytes += segment.size_bytes();
    if (segment.next_offset() <= clean_point) continue;
    dirty_bytes += segment.size_bytes();
    if (!first_dirty) first_dirty = i;
  }
  stats.dirty_ratio = total_bytes == 0 ? 0 : static_cast<double>(dirty_bytes) / total_bytes;
  if (!first_dirty) return std::unique_ptr<Cleaner>();
  Segment& oldest_dirty = *cleaner->sources_[*first_dirty].segment;
  auto first_header = oldest_dirty.header_at(0);
  if (!first_header.ok()) return first_header.status();
  stats.dirty_since_ms = first_header->max_timestamp.value() >= 0
                             ? first_header->max_timestamp.value()
                             : oldest_dirty.created_ms();
  bool overdue = now_ms - stats.dirty_since_ms >= config.max_compaction_lag_ms;
  if (!options.force && !overdue && stats.dirty_ratio < config.min_cleanable_dirty_ratio) {
    return std::unique_ptr<Cleaner>();
  }
  cleaner->now_ms_ = now_ms;
  cleaner->previous_clean_point_ = stats.clean_point;
  cleaner->map_start_ = clean_point;
  cleaner->map_end_ = cleaner->sources_.back().segment->next_offset();
  cleaner->first_dirty_ = *first_dirty;
  cleaner->map_ = std::make_unique<KeyMap>(options.key_map_bytes);
  return cleaner;
}

Result<bool> Cleaner::step(uint64_t budget_bytes) {
  uint64_t budget = std::max<uint64_t>(budget_bytes, 1);
  Status status;
  while (status.ok() && budget > 0 && phase_ != Phase::done) {
    switch (phase_) {
      case Phase::producers: status = scan_producers_step(&budget); break;
      case Phase::map: status = build_map_step(&budget); break;
      case Phase::clean: status = clean_step(&budget); break;
      case Phase::commit: status = commit(); break;
      case Phase::done: break;
    }
  }
  if (!status.ok()) {
    if (committed_) {
      // Disk holds a committed swap that memory does not reflect: refuse everything until the
      // next open finishes it.
      log_.append_failed_ = error(StatusCode::io_error, "cleaner swap: " + status.message());
    }
    abort();
    return status;
  }
  return phase_ != Phase::done;
}

Result<std::vector<uint8_t>> Cleaner::read_batch(Segment& segment, const BatchHeader& header) {
  std::vector<uint8_t> bytes(header.size_bytes());
  auto n = segment.files()->log->read_at(header.position, bytes);
  if (!n.ok()) return n.status();
  if (*n != bytes.size()) return error(StatusCode::corrupt, "short read of a batch to clean");
  auto view = model::RecordBatchView::parse(bytes);
  if (!view.ok()) return view.status();
  if (view->size_bytes() != bytes.size() || !view->crc_ok()) {
    return error(StatusCode::corrupt, "batch to clean fails its crc");
  }
  log_.cleaner_stats_.bytes_read += bytes.size();
  return bytes;
}

// The uncompressed records section of `batch`, or nullopt when it is compressed and there is
// no decompressor (the batch is then kept whole).
Result<std::optional<std::vector<uint8_t>>> Cleaner::records_of(
    const std::vector<uint8_t>& batch) {
  auto view = model::RecordBatchView::parse(batch);
  ASSERT(view.ok());
  if (view->compression() == model::Compression::none) {
    auto section = view->records_bytes();
    return std::optional<std::vector<uint8_t>>(std::in_place, section.begin(), section.end());
  }
  if (!options_.decompress || !options_.compress) {
    return std::optional<std::vector<uint8_t>>();
  }
  auto records = options_.decompress(view->compression(), view->records_bytes());
  if (!records.ok()) {
    // Too large to expand, or a codec this build lacks: the batch stays as it is.
    if (records.status().code() == StatusCode::io_error) return records.status();
    return std::optional<std::vector<uint8_t>>();
  }
  return std::optional<std::vector<uint8_t>>(std::move(records.value()));
}

// Header-only pass over everything the run may rewrite: the last data batch of each producer
// id keeps its header, so the broker's idempotent dedupe (Log::scan_headers) still finds its
// sequence numbers, and its last control batch stays, which holds its latest epoch (a marker
// may fence an older one). Both, as Kafka keeps them: a marker after the last data batch
// does not replace it, or a replay would resume the producer's sequence from an older batch.
Status Cleaner::scan_producers_step(uint64_t* budget) {
  while (cursor_segment_ < sources_.size() && *budget > 0) {
    Segment& segment = *sources_[cursor_segment_].segment;
    if (cursor_position_ >= segment.size_bytes()) {
      cursor_segment_++;
      cursor_position_ = 0;
      continue;
    }
    auto header = segment.header_at(cursor_position_);
    if (!header.ok()) return header.status();
    if (header->producer_id.value() >= 0) {
      ProducerLast& last = producer_last_[header->producer_id.value()];
      (header->is_control() ? last.control : last.data) = header->base_offset;
    }
    cursor_position_ += header->size_bytes();
    *budget -= std::min<uint64_t>(*budget, model::batch_layout::kHeaderBytes);
  }
  if (cursor_segment_ == sources_.size()) {
    phase_ = Phase::map;
    cursor_segment_ = first_dirty_;
    cursor_position_ = 0;
  }
  return Status();
}

Status Cleaner::build_map_step(uint64_t* budget) {
  while (cursor_segment_ < sources_.size() && *budget > 0) {
    Segment& segment = *sources_[cursor_segment_].segment;
    if (cursor_position_ >= segment.size_bytes()) {
      cursor_segment_++;
      cursor_position_ = 0;
      continue;
    }
    auto header = segment.header_at(cursor_position_);
    if (!header.ok()) return header.status();
    if (header->next_offset() > map_start_) {
      if (static_cast<size_t>(std::max(header->records_count, 0)) > map_->room()) {
        if (map_->size() == 0) {
          return error(StatusCode::invalid_argument, "key map too small for one batch");
        }
        map_end_ = header->base_offset;  // full: the run covers the prefix indexed so far
        cursor_segment_ = sources_.size();
        break;
      }
      auto batch = read_batch(segment, *header);
      if (!batch.ok()) return batch.status();
      RETURN_IF_ERROR(index_batch(*header, *batch));
      *budget -= std::min<uint64_t>(*budget, header->size_bytes());
    }
    cursor_position_ += header->size_bytes();
  }
  if (cursor_segment_ >= sources_.size()) {
    phase_ = Phase::clean;
    cursor_segment_ = 0;
    cursor_position_ = 0;
  }
  return Status();
}

Status Cleaner::index_batch(const BatchHeader& header, const std::vector<uint8_t>& batch) {
  if (header.is_control()) return Status();
  if (options_.discard && options_.discard(header)) return Status();
  auto records = records_of(batch);
  if (!records.ok()) return records.status();
  if (!records->has_value()) return Status();
  return walk_records(**records, header.records_count, [&](const RecordRef& record) {
    Offset offset(header.base_offset.value() + record.offset_delta);
    if (record.key.has_value() && offset >= map_start_) map_->put(hash_key(*record.key), offset);
  });
}

}  // namespace cairn::storage
