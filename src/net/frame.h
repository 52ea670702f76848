// Frames as the network layer sees them: a 4-byte big-endian size, then that many bytes.
//
// The network layer knows nothing about Kafka. Inbound, it hands the session each frame's
// bytes (without the size prefix). Outbound, a session returns an OutboundFrame (again without
// the size prefix; the connection writes it) that may splice byte ranges of open files in, so
// fetched log data goes from the page cache to the socket with sendfile(). Plain values: any
// thread may build them; a connection writes them on its own shard.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "base/units.h"

namespace cairn::net {

inline constexpr size_t kFrameSizeBytes = 4;

// A byte range of an open file. `keepalive` holds whatever keeps `fd` open (a segment) until
// the frame has been written.
struct FileSlice {
  int fd = -1;
  uint64_t offset = 0;
  uint32_t size = 0;
  std::shared_ptr<const void> keepalive;
};

// `slice` is sent before bytes[at].
struct FileSplice {
  size_t at = 0;
  FileSlice slice;
};

struct OutboundFrame {
  std::vector<uint8_t> bytes;
  std::vector<FileSplice> splices;  // ascending `at`, each at <= bytes.size()

  // Size on the wire, without the 4-byte size prefix.
  uint64_t size() const {
    uint64_t total = bytes.size();
    for (const auto& s : splices) total += s.slice.size;
    return total;
  }
};

// What a session answers to one request.
struct Reply {
  enum class Kind {
    frame,  // write `frame` (in request order)
    none,   // nothing is written for this request (acks=0 produce); order of others is kept
    close,  // write the replies before this one, then close the connection
  };
  Kind kind = Kind::close;
  OutboundFrame frame;
  bool close_after = false;  // kind frame: close the connection once it is written

  static Reply respond(OutboundFrame frame) { return Reply{Kind::frame, std::move(frame)}; }
  // Writes `frame`, then closes (a failed SASL login is answered, then the connection ends).
  static Reply respond_then_close(OutboundFrame frame) {
    return Reply{Kind::frame, std::move(frame), true};
  }
  static Reply none() { return Reply{Kind::none, {}}; }
  static Reply close() { return Reply{Kind::close, {}}; }
};

// Per-connection limits. Every queue and buffer a client can grow has one.
struct ConnectionLimits {
  // Largest inbound frame (size prefix value). Larger, zero or negative sizes close the
  // connection before anything is allocated.
  uint32_t frame_bytes_max = 100 * MiB;
  // Requests read but not yet answered. When full the connection stops reading (backpressure).
  uint32_t in_flight_max = 128;
  // A connection with no bytes read and no request in flight for this long is closed.
  std::chrono::milliseconds idle_timeout{10 * 60 * 1000};
  // A TLS handshake not finished this long after the accept closes the connection.
  std::chrono::milliseconds handshake_timeout{10 * 1000};
};

}  // namespace cairn::net
