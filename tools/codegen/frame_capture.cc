// frame_capture: a fake single-node Kafka broker that records the request frames clients send.
//
// It answers just enough (ApiVersions, Metadata, Produce, ListOffsets, Fetch), with the
// generated codecs, for a real client to produce and read back, and writes every request frame
// body (header + body, without the int32 size prefix) to --out as
// <prefix>-<nn>-<Api>-v<version>.bin. Used by tools/codegen/capture_golden.sh to refresh
// src/protocol/testdata/golden and by the messages_client_interop test. Produced batches go to
// one unlinked temp file, every partition sharing one log, and Fetch answers with that file
// spliced in with sendfile() (the zero-copy Records path). No stand-in for the broker. One
// thread per connection; the log is behind a mutex, the frame counter is atomic.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "protocol/generated/api_catalog.h"
#include "protocol/generated/api_versions.h"
#include "protocol/generated/fetch.h"
#include "protocol/generated/list_offsets.h"
#include "protocol/generated/metadata.h"
#include "protocol/generated/produce.h"
#include "protocol/request_header.h"

namespace cairn::protocol {
namespace {

constexpr uint32_t kFrameBytesMax = 16 << 20;
constexpr int16_t kCorruptMessage = 2;
constexpr int16_t kUnsupportedVersion = 35;

struct Options {
  int port = 0;
  std::string out_dir = ".";
  std::string prefix = "frame";
};

std::atomic<int> frame_count{0};
int listen_port = 0;

// Every produced batch, appended to one temp file with its base offset stamped.
struct CaptureLog {
  std::mutex mutex;
  int fd = -1;
  uint64_t size_bytes = 0;  // guarded by mutex
  int64_t end_offset = 0;   // guarded by mutex
};
CaptureLog capture_log;

constexpr size_t kBatchHeaderBytes = 61;
constexpr size_t kRecordsCountAt = 57;

uint32_t load_u32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

// Appends one v2 batch, returns its base offset (or -1 if it is not a batch).
int64_t append_batch(std::span<const uint8_t> batch) {
  if (batch.size() < kBatchHeaderBytes || batch[16] != 2) return -1;
  std::vector<uint8_t> stamped(batch.begin(), batch.end());
  std::lock_guard<std::mutex> lock(capture_log.mutex);
  int64_t base = capture_log.end_offset;
  for (int i = 0; i < 8; i++) stamped[i] = static_cast<uint8_t>(uint64_t(base) >> (56 - 8 * i));
  ssize_t n = pwrite(capture_log.fd, stamped.data(), stamped.size(),
                     static_cast<off_t>(capture_log.size_bytes));
  if (n != static_cast<ssize_t>(stamped.size())) return -1;
  capture_log.size_bytes += stamped.size();
  capture_log.end_offset += load_u32(stamped.data() + kRecordsCountAt);
  return base;
}

bool read_exact(int fd, uint8_t* p, size_t size) {
  while (size > 0) {
    ssize_t n = read(fd, p, size);
    if (n <= 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

bool write_all(int fd, const uint8_t* p, size_t size) {
  while (size > 0) {
    ssize_t n = write(fd, p, size);
    if (n <= 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

bool send_range(int fd, const FileRange& range) {
  off_t offset = static_cast<off_t>(range.offset);
  size_t left = range.size;
  while (left > 0) {
    ssize_t n = sendfile(fd, range.fd, &offset, left);
    if (n <= 0) return false;
    left -= static_cast<size_t>(n);
  }
  return true;
}

// Writes the frame's bytes with its file ranges spliced in.
bool send_frame(int fd, const Frame& frame) {
  size_t at = 0;
  for (const Splice& splice : frame.splices) {
    if (!write_all(fd, frame.bytes.data() + at, splice.at - at)) return false;
    if (!send_range(fd, splice.range)) return false;
    at = splice.at;
  }
  return write_all(fd, frame.bytes.data() + at, frame.bytes.size() - at);
}

void record(const Options& options, const RequestHeader& header, const std::vector<uint8_t>& body) {
  const ApiInfo* api = find_api(header.api_key);
  std::string name = api ? api->name : "Unknown" + std::to_string(header.api_key);
  char path[512];
  snprintf(path, sizeof(path), "%s/%s-%02d-%s-v%d.bin", options.out_dir.c_str(),
           options.prefix.c_str(), frame_count.fetch_add(1), name.c_str(), header.api_version);
  FILE* f = fopen(path, "wb");
  if (f == nullptr) {
    perror(path);
    return;
  }
  fwrite(body.data(), 1, body.size(), f);
  fclose(f);
  fprintf(stderr, "frame_capture: %s (%zu bytes)\n", path, body.size());
}

void answer_api_versions(const RequestHeader& header, Writer& w) {
  ApiVersionsResponse response;
  int16_t version = header.api_version;
  if (version > ApiVersionsResponse::kMaxVersion) {  // KIP-511: v0 body, error 35
    version = 0;
    response.error_code = kUnsupportedVersion;
  }
  for (const ApiInfo& api : kApiCatalog) {
    ApiVersionsResponse::ApiVersion entry;
    entry.api_key = api.api_key;
    entry.min_version = api.min_version;
    entry.max_version = api.max_version;
    response.api_keys.push_back(entry);
  }
  response.encode(w, version);
}

MetadataResponse::MetadataResponseTopic topic_metadata(const std::string& name) {
  MetadataResponse::MetadataResponseTopic topic;
  topic.name = name;
  MetadataResponse::MetadataResponsePartition partition;
  partition.leader_id = 0;
  partition.leader_epoch = 0;
  partition.replica_nodes = {0};
  partition.isr_nodes = {0};
  topic.partitions.push_back(partition);
  return topic;
}

bool answer_metadata(const RequestHeader& header, Reader& r, Writer& w) {
  MetadataRequest request;
  if (!request.decode(r, header.api_version)) return false;
  MetadataResponse response;
  MetadataResponse::MetadataResponseBroker broker;
  broker.node_id = 0;
  broker.host = "127.0.0.1";
  broker.port = listen_port;
  response.brokers.push_back(broker);
  response.cluster_id = "frame-capture";
  response.controller_id = 0;
  bool all = !request.topics.has_value() || (header.api_version == 0 && request.topics->empty());
  if (all) {
    response.topics.push_back(topic_metadata("golden"));
  } else {
    for (const auto& topic : *request.topics) {
      response.topics.push_back(topic_metadata(topic.name.value_or("golden")));
    }
  }
  response.encode(w, header.api_version);
  return true;
}

// Returns false when the request is malformed; sets *silent for acks=0 (no response).
bool answer_produce(const RequestHeader& header, Reader& r, Writer& w, bool* silent) {
  ProduceRequest request;
  if (!request.decode(r, header.api_version)) return false;
  *silent = request.acks == 0;
  ProduceResponse response;
  for (const auto& topic : request.topic_data) {
    ProduceResponse::TopicProduceResponse out;
    out.name = topic.name;
    for (const auto& partition : topic.partition_data) {
      ProduceResponse::PartitionProduceResponse p;
      p.index = partition.index;
      p.base_offset = -1;
      if (partition.records.inline_bytes)
        p.base_offset = append_batch(*partition.records.inline_bytes);
      if (p.base_offset < 0) p.error_code = kCorruptMessage;
      p.log_start_offset = 0;
      out.partition_responses.push_back(p);
    }
    response.responses.push_back(out);
  }
  response.encode(w, header.api_version);
  return true;
}

int64_t log_end_offset() {
  std::lock_guard<std::mutex> lock(capture_log.mutex);
  return capture_log.end_offset;
}

bool answer_list_offsets(const RequestHeader& header, Reader& r, Writer& w) {
  ListOffsetsRequest request;
  if (!request.decode(r, header.api_version)) return false;
  ListOffsetsResponse response;
  for (const auto& topic : request.topics) {
    ListOffsetsResponse::ListOffsetsTopicResponse out;
    out.name = topic.name;
    for (const auto& partition : topic.partitions) {
      ListOffsetsResponse::ListOffsetsPartitionResponse p;
      p.partition_index = partition.partition_index;
      int64_t offset = partition.timestamp == -2 ? 0 : log_end_offset();  // -2: earliest
      p.offset = offset;
      p.old_style_offsets = {offset};
      out.partitions.push_back(p);
    }
    response.topics.push_back(out);
  }
  response.encode(w, header.api_version);
  return true;
}

bool answer_fetch(const RequestHeader& header, Reader& r, Writer& w) {
  FetchRequest request;
  if (!request.decode(r, header.api_version)) return false;
  uint64_t log_bytes = 0;
  int64_t end = 0;
  {
    std::lock_guard<std::mutex> lock(capture_log.mutex);
    log_bytes = capture_log.size_bytes;
    end = capture_log.end_offset;
  }
  FetchResponse response;
  for (const auto& topic : request.topics) {
    FetchResponse::FetchableTopicResponse out;
    out.topic = topic.topic;
    for (const auto& partition : topic.partitions) {
      FetchResponse::PartitionData p;
      p.partition_index = partition.partition;
      p.high_watermark = end;
      p.last_stable_offset = end;
      p.log_start_offset = 0;
      if (partition.fetch_offset < end) {
        // The whole log: clients skip records below their fetch offset.
        p.records.file_ranges.push_back(
            FileRange{capture_log.fd, 0, static_cast<uint32_t>(log_bytes), nullptr});
      } else {
        p.records = Records::of({});
      }
      out.partitions.push_back(p);
    }
    response.responses.push_back(out);
  }
  response.encode(w, header.api_version);
  return true;
}

// The response frame for one request, or nullopt to close the connection.
std::optional<Frame> answer(const std::vector<uint8_t>& body, const Options& options) {
  Reader r(body);
  Result<RequestHeader> header = decode_request_header(r);
  if (!header.ok()) {
    fprintf(stderr, "frame_capture: %s\n", header.status().to_string().c_str());
    return std::nullopt;
  }
  record(options, *header, body);
  Writer w;
  size_t size_at = begin_response_frame(w, *header);
  bool ok = true;
  bool silent = false;
  switch (header->api_key) {
    case ApiVersionsRequest::kApiKey:
      answer_api_versions(*header, w);
      break;
    case MetadataRequest::kApiKey:
      ok = answer_metadata(*header, r, w);
      break;
    case ProduceRequest::kApiKey:
      ok = answer_produce(*header, r, w, &silent);
      break;
    case ListOffsetsRequest::kApiKey:
      ok = answer_list_offsets(*header, r, w);
      break;
    case FetchRequest::kApiKey:
      ok = answer_fetch(*header, r, w);
      break;
    default:
      fprintf(stderr, "frame_capture: not answering api key %d\n", header->api_key);
      return std::nullopt;
  }
  if (!ok) {
    fprintf(stderr, "frame_capture: cannot decode api key %d v%d: %s\n", header->api_key,
            header->api_version, r.error());
    return std::nullopt;
  }
  if (silent) return Frame();
  end_response_frame(w, size_at);
  return std::move(w).finish();
}

void serve(int fd, Options options) {
  for (;;) {
    uint8_t size_bytes[4];
    if (!read_exact(fd, size_bytes, 4)) break;
    uint32_t size = (uint32_t{size_bytes[0]} << 24) | (uint32_t{size_bytes[1]} << 16) |
                    (uint32_t{size_bytes[2]} << 8) | uint32_t{size_bytes[3]};
    if (size > kFrameBytesMax) break;
    std::vector<uint8_t> body(size);
    if (!read_exact(fd, body.data(), size)) break;
    std::optional<Frame> response = answer(body, options);
    if (!response || !send_frame(fd, *response)) break;
  }
  close(fd);
}

int run(const Options& options) {
  FILE* log_file = tmpfile();
  if (log_file == nullptr) {
    perror("frame_capture: tmpfile");
    return 1;
  }
  capture_log.fd = fileno(log_file);
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(options.port));
  socklen_t length = sizeof(address);
  if (bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      listen(listener, 16) != 0 ||
      getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    perror("frame_capture: listen");
    return 1;
  }
  listen_port = ntohs(address.sin_port);
  printf("%d\n", listen_port);
  fflush(stdout);
  for (;;) {
    int fd = accept(listener, nullptr, nullptr);
    if (fd < 0) continue;
    std::thread(serve, fd, options).detach();
  }
}

}  // namespace
}  // namespace cairn::protocol

int main(int argc, char** argv) {
  cairn::protocol::Options options;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--port") {
      options.port = std::atoi(argv[i + 1]);
    } else if (flag == "--out") {
      options.out_dir = argv[i + 1];
    } else if (flag == "--prefix") {
      options.prefix = argv[i + 1];
    } else {
      fprintf(stderr, "usage: frame_capture [--port N] [--out DIR] [--prefix NAME]\n");
      return 2;
    }
  }
  return cairn::protocol::run(options);
}
