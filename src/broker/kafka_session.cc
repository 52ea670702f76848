#include "broker/kafka_session.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "broker/handlers/api_table.h"
#include "protocol/generated/api_versions.h"

namespace cairn::broker {

asio::awaitable<net::Reply> KafkaSession::handle(net::InboundRequest request) {
  auto frame = std::make_shared<std::vector<uint8_t>>(std::move(request.frame));
  if (sasl_ != nullptr && sasl_->failed) co_return net::Reply::close();
  if (sasl_ != nullptr && sasl_->step == Sasl::Step::raw_tokens) {
    co_return co_await sasl_raw_token(*frame);  // no request header: a bare SASL token
  }
  protocol::Reader reader(*frame);
  Result<protocol::RequestHeader> header = protocol::decode_request_header(reader);
  if (!header.ok()) {
    spdlog::info("connection {}: {}; closing", info_.id, header.status().message());
    co_return net::Reply::close();
  }
  const ApiEntry* api = find_api_entry(header->api_key);
  if (api == nullptr) {
    spdlog::info("connection {}: unsupported api key {}; closing", info_.id, header->api_key);
    co_return net::Reply::close();
  }
  if (!api->serves(header->api_version) &&
      header->api_key != protocol::ApiVersionsRequest::kApiKey) {
    spdlog::info("connection {}: unsupported {} version {}; closing", info_.id, api->name,
                 header->api_version);
    co_return net::Reply::close();
  }
  auto started = std::chrono::steady_clock::now();
  size_t body_offset = static_cast<size_t>(reader.position() - frame->data());
  if (sasl_ != nullptr) {
    std::optional<net::Reply> gated =
        co_await sasl_gate(*header, std::span<const uint8_t>(*frame).subspan(body_offset));
    if (gated) co_return std::move(*gated);
  }
  int16_t api_version = header->api_version;
  int16_t api_key = header->api_key;
  RequestContext ctx{std::move(header).value(),   std::move(frame), body_offset, broker_, info_,
                     std::move(request.ordering), identity_};
  net::Reply reply = co_await api->handler(std::move(ctx));
  if (metrics::Histogram* latency = broker_->metrics->request_latency(api_key)) {
    auto elapsed = std::chrono::steady_clock::now() - started;
    latency->observe(static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count()));
  }
  if (reply.kind == net::Reply::Kind::close) {
    spdlog::info("connection {}: {} v{} request refused (malformed?); closing", info_.id, api->name,
                 api_version);
  }
  co_return reply;
}

}  // namespace cairn::broker
