// The cluster id: a random 16-byte UUID (v4) in URL-safe base64 without padding, 22
// characters, as Kafka formats it. Generated once, kept in DATA_DIR/meta/cluster_id, and
// returned unchanged on every later start. Blocking file I/O: call at startup (any thread).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "base/status.h"
#include "storage/io.h"

namespace cairn::broker {

inline constexpr size_t kClusterIdChars = 22;

// Loads the id from `meta_dir`/cluster_id, creating it if the file is absent. A file that is
// present but malformed is an error (corrupt): the broker must not silently change identity.
Result<std::string> load_or_create_cluster_id(const std::filesystem::path& meta_dir,
                                              storage::Io& io);

bool is_valid_cluster_id(std::string_view id);
std::string generate_cluster_id();

}  // namespace cairn::broker
