// Small metadata files in the data directory (data/meta/*, a partition's topic_id and producer
// snapshot): read whole, replace atomically, through the storage::Io seam (so the fault tests'
// FaultIo reaches them as it reaches the logs).
//
// A replace writes `path.tmp`, fsyncs it, renames it over `path` and fsyncs the directory, so
// after a crash the file holds either the old or the new contents, never a mix. Blocking
// calls: use them at startup, on the MetaWriter (meta_writer.h) or at shutdown, never on a
// shard loop. Any thread; callers serialize writes to the same path.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "storage/io.h"

namespace cairn::broker {

// The contents of `path`, or nullopt if it does not exist. Files above `bytes_max` are an
// error (too_large): metadata files are small, a huge one is corruption or a mistake.
Result<std::optional<std::string>> read_meta_file(storage::Io& io,
                                                  const std::filesystem::path& path,
                                                  size_t bytes_max);

// Replaces `path` with `contents` durably (see above). Creates the directory if missing.
Status write_meta_file(storage::Io& io, const std::filesystem::path& path,
                       std::string_view contents);

// Removes the directory `dir` and the files in it (no subdirectories), the file named `last`
// (if any) after all the others, then makes the removal durable in its parent. A missing `dir`
// is not an error. A crash midway leaves `last` in place with whatever else remains.
Status remove_flat_dir(storage::Io& io, const std::filesystem::path& dir,
                       std::string_view last = {});

}  // namespace cairn::broker
