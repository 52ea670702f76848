// frame_capture: a fake single-node Kafka broker that records the request frames clients send.
//
// It answers just enough (ApiVersions, Metadata, Produce), with the generated codecs, for a
// real client to get as far as producing, and writes every request frame body (header + body,
// without the int32 size prefix) to --out as <prefix>-<nn>-<Api>-v<version>.bin. Used by
// tools/codegen/capture_golden.sh to refresh src/protocol/testdata/golden. It stores nothing
// and is no stand-in for the broker. One thread per connection; the file counter is atomic.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "protocol/generated/api_catalog.h"
#include "protocol/generated/api_versions.h"
#include "protocol/generated/metadata.h"
#include "protocol/generated/produce.h"
#include "protocol/request_header.h"

namespace cairn::protocol {
namespace {

constexpr uint32_t kFrameBytesMax = 16 << 20;
constexpr int16_t kUnsupportedVersion = 35;

struct Options {
  int port = 0;
  std::string out_dir = ".";
  std::string prefix = "frame";
};

std::atomic<int> frame_count{0};
int listen_port = 0;

bool read_exact(int fd, uint8_t* p, size_t size) {
  while (size > 0) {
    ssize_t n = read(fd, p, size);
    if (n <= 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

bool write_all(int fd, const std::vector<uint8_t>& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
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
    for (const auto& topic : *request.topics) response.topics.push_back(topic_metadata(topic.name));
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
      p.base_offset = 0;
      p.log_start_offset = 0;
      out.partition_responses.push_back(p);
    }
    response.responses.push_back(out);
  }
  response.encode(w, header.api_version);
  return true;
}

// The response frame for one request, or nullopt to close the connection.
std::optional<std::vector<uint8_t>> answer(const std::vector<uint8_t>& body,
                                           const Options& options) {
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
    default:
      fprintf(stderr, "frame_capture: not answering api key %d\n", header->api_key);
      return std::nullopt;
  }
  if (!ok) {
    fprintf(stderr, "frame_capture: cannot decode api key %d v%d: %s\n", header->api_key,
            header->api_version, r.error());
    return std::nullopt;
  }
  if (silent) return std::vector<uint8_t>();
  end_response_frame(w, size_at);
  return std::move(w).finish().bytes;
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
    std::optional<std::vector<uint8_t>> response = answer(body, options);
    if (!response || !write_all(fd, *response)) break;
  }
  close(fd);
}

int run(const Options& options) {
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
