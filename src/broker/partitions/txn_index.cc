#include "broker/partitions/txn_index.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>

#include "base/crc32c.h"
#include "broker/meta_file.h"
#include "storage/format.h"

namespace cairn::broker {
namespace {

using producers::AbortedTxn;

// Layout (little endian; docs/format/partition-dir.md):
//   u32 magic "CTI1" | u16 version 1 | u16 zero | u32 entry count | u32 crc32c of the entries
//   per entry: i64 producer_id | i64 first_offset | i64 last_offset (the marker)
//              | i64 last_stable_offset
constexpr uint32_t kMagic = 0x31495443;  // "CTI1"
constexpr uint16_t kVersion = 1;
constexpr size_t kHeaderBytes = 16;
constexpr size_t kEntryBytes = 32;
constexpr uint64_t kWindowEntries = 128;  // entries per read

Status corrupt(const std::string& path, const char* why) {
  return error(StatusCode::corrupt, path + ": " + why);
}

void put64(uint8_t* out, int64_t value) { std::memcpy(out, &value, 8); }
int64_t get64(const uint8_t* in) {
  int64_t value = 0;
  std::memcpy(&value, in, 8);
  return value;
}

std::string encode(const std::vector<AbortedTxn>& entries) {
  std::string out(kHeaderBytes + entries.size() * kEntryBytes, '\0');
  auto* bytes = reinterpret_cast<uint8_t*>(out.data());
  for (size_t i = 0; i < entries.size(); i++) {
    uint8_t* at = bytes + kHeaderBytes + i * kEntryBytes;
    put64(at, entries[i].producer_id.value());
    put64(at + 8, entries[i].first_offset.value());
    put64(at + 16, entries[i].last_offset.value());
    put64(at + 24, entries[i].last_stable_offset.value());
  }
  uint32_t count = static_cast<uint32_t>(entries.size());
  uint32_t crc = crc32c::value(bytes + kHeaderBytes, entries.size() * kEntryBytes);
  uint16_t zero = 0;
  std::memcpy(bytes, &kMagic, 4);
  std::memcpy(bytes + 4, &kVersion, 2);
  std::memcpy(bytes + 6, &zero, 2);
  std::memcpy(bytes + 8, &count, 4);
  std::memcpy(bytes + 12, &crc, 4);
  return out;
}

// One open index file: its header checked against its size; entries read on demand.
class IndexFile {
 public:
  static Result<IndexFile> open(storage::Io& io, const std::string& path) {
    Result<std::shared_ptr<storage::File>> file = io.open(path, storage::OpenMode::read_only);
    if (!file.ok()) return file.status();
    IndexFile index(path, *file);
    uint8_t header[kHeaderBytes];
    Result<size_t> read = (*file)->read_at(0, header);
    if (!read.ok()) return read.status();
    Result<uint64_t> size = (*file)->size_bytes();
    if (!size.ok()) return size.status();
    uint32_t magic = 0;
    uint16_t version = 0;
    std::memcpy(&magic, header, 4);
    std::memcpy(&version, header + 4, 2);
    std::memcpy(&index.count_, header + 8, 4);
    std::memcpy(&index.crc_, header + 12, 4);
    if (*read != kHeaderBytes || magic != kMagic) return corrupt(path, "not a txnindex file");
    if (version != kVersion) return corrupt(path, "unknown txnindex version");
    if (*size != kHeaderBytes + uint64_t{index.count_} * kEntryBytes) {
      return corrupt(path, "txnindex size does not match its entry count");
    }
    return index;
  }

  uint64_t count() const { return count_; }

  // Entries [first, first + n), n <= kWindowEntries. `crc` (if given) is extended with them.
  Result<std::vector<AbortedTxn>> entries(uint64_t first, uint64_t n, uint32_t* crc = nullptr) {
    uint8_t bytes[kWindowEntries * kEntryBytes];
    std::span<uint8_t> want(bytes, n * kEntryBytes);
    Result<size_t> read = file_->read_at(kHeaderBytes + first * kEntryBytes, want);
    if (!read.ok()) return read.status();
    if (*read != want.size()) return corrupt(path_, "txnindex shorter than its header says");
    if (crc != nullptr) *crc = crc32c::extend(*crc, bytes, want.size());
    std::vector<AbortedTxn> out;
    out.reserve(n);
    for (uint64_t i = 0; i < n; i++) {
      const uint8_t* at = bytes + i * kEntryBytes;
      out.push_back({ProducerId(get64(at)), Offset(get64(at + 8)), Offset(get64(at + 16)),
                     Offset(get64(at + 24))});
    }
    return out;
  }

  // Every entry, checking the CRC and the order.
  Result<std::vector<AbortedTxn>> all() {
    std::vector<AbortedTxn> out;
    RETURN_IF_ERROR(scan(&out));
    return out;
  }
  // Checks the CRC and the order without keeping the entries.
  Status verify() { return scan(nullptr); }

  // The index of the first entry whose marker is at or after `from` (count() if none).
  Result<uint64_t> lower_bound(Offset from) {
    uint64_t low = 0, high = count_;
    while (low < high) {
      uint64_t middle = low + (high - low) / 2;
      Result<std::vector<AbortedTxn>> entry = entries(middle, 1);
      if (!entry.ok()) return entry.status();
      if ((*entry)[0].last_offset < from) {
        low = middle + 1;
      } else {
        high = middle;
      }
    }
    return low;
  }

 private:
  IndexFile(std::string path, std::shared_ptr<storage::File> file)
      : path_(std::move(path)), file_(std::move(file)) {}

  Status scan(std::vector<AbortedTxn>* out) {
    uint32_t crc = 0;
    Offset previous{-1};
    for (uint64_t at = 0; at < count_; at += kWindowEntries) {
      Result<std::vector<AbortedTxn>> window =
          entries(at, std::min(kWindowEntries, count_ - at), &crc);
      if (!window.ok()) return window.status();
      for (const AbortedTxn& entry : *window) {
        if (entry.last_offset <= previous || entry.first_offset > entry.last_offset ||
            entry.first_offset.value() < 0) {
          return corrupt(path_, "txnindex entries out of order");
        }
        previous = entry.last_offset;
        if (out != nullptr) out->push_back(entry);
      }
    }
    if (crc != crc_) return corrupt(path_, "txnindex crc");
    return Status();
  }

  std::string path_;
  std::shared_ptr<storage::File> file_;
  uint32_t count_ = 0;
  uint32_t crc_ = 0;
};

}  // namespace

Status write_txn_index_files(storage::Io& io, const std::string& dir,
                             const std::vector<TxnIndexFile>& files) {
  for (const TxnIndexFile& file : files) {
    std::string path = dir + "/" + storage::format::segment_file_name(file.base, kTxnIndexSuffix);
    if (file.entries.empty()) {
      Result<bool> present = io.exists(path);
      if (!present.ok()) return present.status();
      if (*present) RETURN_IF_ERROR(io.remove(path));
      continue;
    }
    RETURN_IF_ERROR(write_meta_file(io, path, encode(file.entries)));
  }
  return Status();
}

std::string TxnIndex::path_for(Offset base) const {
  return dir_ + "/" + storage::format::segment_file_name(base, kTxnIndexSuffix);
}

Status TxnIndex::load(const std::vector<Offset>& segment_bases, Offset indexed_below) {
  bases_.clear();
  removed_.clear();
  floor_ = Offset(0);
  Result<std::vector<std::string>> names = io_->list_dir(dir_);
  if (!names.ok()) return names.status();
  const std::string temporary = std::string(kTxnIndexSuffix) + ".tmp";
  for (const std::string& name : *names) {
    std::optional<Offset> base = storage::format::parse_segment_file_name(name, kTxnIndexSuffix);
    bool stray_temporary =
        name.size() > temporary.size() &&
        name.compare(name.size() - temporary.size(), temporary.size(), temporary) == 0;
    if (!base.has_value() && !stray_temporary) continue;
    bool keep = base.has_value() && *base < indexed_below &&
                std::binary_search(segment_bases.begin(), segment_bases.end(), *base);
    if (!keep) {
      RETURN_IF_ERROR(io_->remove(dir_ + "/" + name));
      continue;
    }
    Result<IndexFile> file = IndexFile::open(*io_, dir_ + "/" + name);
    if (!file.ok()) return file.status();
    RETURN_IF_ERROR(file->verify());
    bases_.insert(*base);
  }
  return Status();
}

Status TxnIndex::remove_all() {
  Result<std::vector<std::string>> names = io_->list_dir(dir_);
  if (!names.ok()) return names.status();
  for (const std::string& name : *names) {
    if (name.find(kTxnIndexSuffix) != std::string::npos) {
      RETURN_IF_ERROR(io_->remove(dir_ + "/" + name));
    }
  }
  bases_.clear();
  removed_.clear();
  floor_ = Offset(0);
  return Status();
}

Result<bool> TxnIndex::collect(Offset from, Offset upper, std::vector<AbortedTxn>& out) const {
  auto it = bases_.upper_bound(from);
  if (it != bases_.begin()) --it;
  for (; it != bases_.end(); ++it) {
    Result<IndexFile> file = IndexFile::open(*io_, path_for(*it));
    if (!file.ok()) return file.status();
    Result<uint64_t> first = file->lower_bound(from);
    if (!first.ok()) return first.status();
    for (uint64_t at = *first; at < file->count(); at += kWindowEntries) {
      Result<std::vector<AbortedTxn>> window =
          file->entries(at, std::min(kWindowEntries, file->count() - at));
      if (!window.ok()) return window.status();
      for (const AbortedTxn& entry : *window) {
        if (is_removed(entry)) continue;
        if (entry.first_offset < upper) out.push_back(entry);
        // As in ProducerStateTable::aborted_between: no later abort began below `upper`.
        if (entry.last_stable_offset > upper) return true;
      }
    }
  }
  return false;
}

Result<std::vector<AbortedTxn>> TxnIndex::read(Offset base) const {
  if (!bases_.contains(base)) return std::vector<AbortedTxn>{};
  Result<IndexFile> file = IndexFile::open(*io_, path_for(base));
  if (!file.ok()) return file.status();
  Result<std::vector<AbortedTxn>> entries = file->all();
  if (!entries.ok()) return entries.status();
  std::erase_if(*entries, [this](const AbortedTxn& entry) { return is_removed(entry); });
  return entries;
}

Result<std::vector<AbortedTxn>> TxnIndex::read_all() const {
  std::vector<AbortedTxn> out;
  for (Offset base : bases_) {
    Result<std::vector<AbortedTxn>> entries = read(base);
    if (!entries.ok()) return entries.status();
    out.insert(out.end(), entries->begin(), entries->end());
  }
  return out;
}

void TxnIndex::written(const std::vector<TxnIndexFile>& files) {
  for (const TxnIndexFile& file : files) {
    // A segment retention deleted while the write was in flight: its file (if the write made
    // one again) is a stray the next open deletes.
    if (file.base < floor_) continue;
    if (file.entries.empty()) {
      bases_.erase(file.base);
    } else {
      bases_.insert(file.base);
    }
  }
}

Status TxnIndex::remove_below(Offset first_segment_base) {
  floor_ = std::max(floor_, first_segment_base);
  while (!bases_.empty() && *bases_.begin() < first_segment_base) {
    Offset base = *bases_.begin();
    bases_.erase(bases_.begin());
    Status removed = io_->remove(path_for(base));
    if (!removed.ok() && removed.code() != StatusCode::not_found) return removed;
  }
  std::erase_if(removed_, [&](const auto& r) { return r.second < first_segment_base.value(); });
  return Status();
}

Offset TxnIndex::base_for(Offset marker_offset) const {
  auto it = bases_.upper_bound(marker_offset);
  if (it == bases_.begin()) return Offset(-1);
  return *--it;
}

Result<TxnIndexRewrite> TxnIndex::begin_rewrite() {
  TxnIndexRewrite rewrite;
  std::set<Offset> affected;
  for (const auto& marker : removed_) {
    Offset base = base_for(Offset(marker.second));
    if (base.value() >= 0) affected.insert(base);  // else its file is gone already
    rewrite.markers.push_back(marker);
  }
  for (Offset base : affected) {
    Result<std::vector<AbortedTxn>> entries = read(base);  // without the removed ones
    if (!entries.ok()) return entries.status();
    rewrite.files.push_back({base, std::move(entries).value()});
  }
  for (const TxnIndexFile& file : rewrite.files) {
    if (file.entries.empty()) bases_.erase(file.base);
  }
  return rewrite;
}

void TxnIndex::rewritten(const TxnIndexRewrite& rewrite) {
  for (const auto& marker : rewrite.markers) removed_.erase(marker);
  written(rewrite.files);
}

}  // namespace cairn::broker
