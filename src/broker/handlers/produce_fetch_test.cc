// The Produce and Fetch handlers without a socket: a request encoded with the generated codecs
// goes into handle_produce / handle_fetch on a real shard set, partition manager and logs (in
// a temporary directory); the reply's bytes (with the segment ranges a Fetch splices in read
// back from the files) are decoded and checked together with the log state. Covered: acks=-1
// across partitions on both shards, offsets continuing, acks=0 (no reply, data appended), the
// per-partition refusals (unknown topic, negative index, internal topic, invalid acks,
// max.message.bytes), and a Fetch returning what was produced from a given offset.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <tuple>

#include "broker/configs/broker_configs.h"
#include "broker/configs/resolve.h"
#include "broker/error_code.h"
#include "broker/handlers/handlers.h"
#include "broker/partitions/partition_test_harness.h"
#include "protocol/generated/fetch.h"
#include "protocol/generated/produce.h"
#include "protocol/record_batch.h"
#include "protocol/request_header.h"

namespace cairn::broker {
namespace {

namespace fs = std::filesystem;

using protocol::FetchRequest;
using protocol::FetchResponse;
using protocol::ProduceRequest;
using protocol::ProduceResponse;

class ProduceFetchTest : public ::testing::Test, protected PartitionHarness {
 protected:
  ProduceFetchTest() {
    dir_ = fs::temp_directory_path() /
           ("cairn-handlers-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    dynamic_ = configs::DynamicConfigStore::open(dir_ / "meta", storage::posix_io()).value();
    boot_partitions(dir_, storage::posix_io(), configs::partition_resolver({}, dynamic_.get()));
    EXPECT_TRUE(configs::finish_broker_config(state_.config).ok());
    state_.node_id = NodeId(0);
    state_.topics = registry_.get();
    state_.dynamic_configs = dynamic_.get();
    state_.shards = shards_.get();
    state_.partitions = manager_.get();
    state_.meta_writer = meta_writer_.get();
  }
  ~ProduceFetchTest() override {
    stop_partitions(/*clean=*/true);
    fs::remove_all(dir_);
  }

  void create(const std::string& name, int32_t partitions, TopicConfigs configs = {}) {
    Result<TopicInfo> topic =
        run(manager_->create_topic(registry_.get(), name, partitions, std::move(configs)));
    ASSERT_TRUE(topic.ok()) << topic.status().to_string();
  }

  // Encodes `request` at `version` as the session would receive it and runs `handler`.
  template <typename Request, typename Handler>
  net::Reply call(const Request& request, int16_t version, Handler handler) {
    protocol::RequestHeader header;
    header.api_key = Request::kApiKey;
    header.api_version = version;
    header.correlation_id = 42;
    header.client_id = "unit";
    protocol::Writer writer;
    protocol::encode_request_header(writer, header);
    request.encode(writer, version);
    auto frame = std::make_shared<std::vector<uint8_t>>(std::move(writer).finish().bytes);
    protocol::Reader reader(*frame);
    Result<protocol::RequestHeader> decoded = protocol::decode_request_header(reader);
    EXPECT_TRUE(decoded.ok());
    RequestContext ctx{std::move(decoded).value(),
                       frame,
                       static_cast<size_t>(reader.position() - frame->data()),
                       &state_,
                       {},
                       {},
                       nullptr};
    return run(handler(std::move(ctx)));
  }

  // The reply's bytes as the client would receive them (spliced file ranges read in), decoded.
  // Records fields view reply_bytes_: valid until the next decode.
  template <typename Response>
  Response decode(const net::Reply& reply, int16_t version) {
    EXPECT_EQ(reply.kind, net::Reply::Kind::frame);
    std::vector<uint8_t>& bytes = reply_bytes_;
    bytes.clear();
    size_t copied = 0;
    for (const net::FileSplice& splice : reply.frame.splices) {
      bytes.insert(bytes.end(), reply.frame.bytes.begin() + static_cast<ptrdiff_t>(copied),
                   reply.frame.bytes.begin() + static_cast<ptrdiff_t>(splice.at));
      copied = splice.at;
      std::vector<uint8_t> file(splice.slice.size);
      EXPECT_EQ(::pread(splice.slice.fd, file.data(), file.size(),
                        static_cast<off_t>(splice.slice.offset)),
                static_cast<ssize_t>(file.size()));
      bytes.insert(bytes.end(), file.begin(), file.end());
    }
    bytes.insert(bytes.end(), reply.frame.bytes.begin() + static_cast<ptrdiff_t>(copied),
                 reply.frame.bytes.end());
    protocol::Reader reader(bytes);
    Result<int32_t> correlation_id =
        protocol::decode_response_header(reader, Response::kApiKey, version);
    EXPECT_EQ(correlation_id.ok() ? *correlation_id : -1, 42);
    Response response;
    EXPECT_TRUE(response.decode(reader, version));
    return response;
  }

  // One batch of `count` records "<prefix>-i".
  std::vector<uint8_t> batch(int count, const std::string& prefix, size_t value_bytes = 0) {
    protocol::BatchBuilder builder(protocol::BatchOptions{});
    std::vector<std::string> values;
    for (int i = 0; i < count; i++) {
      values.push_back(prefix + "-" + std::to_string(i) + std::string(value_bytes, 'x'));
    }
    for (const std::string& value : values) {
      protocol::RecordInput record;
      record.value =
          protocol::BytesView(reinterpret_cast<const uint8_t*>(value.data()), value.size());
      builder.add(record);
    }
    return std::move(builder).build().value();
  }

  ProduceResponse produce(int16_t acks,
                          const std::vector<std::tuple<std::string, int32_t, int>>& targets,
                          size_t value_bytes = 0) {
    std::vector<std::vector<uint8_t>> batches;
    for (const auto& [topic, partition, count] : targets) {
      batches.push_back(batch(count, topic, value_bytes));
    }
    ProduceRequest request;
    request.acks = acks;
    request.timeout_ms = 30000;
    for (size_t i = 0; i < targets.size(); i++) {
      ProduceRequest::TopicProduceData topic;
      topic.name = std::get<0>(targets[i]);
      ProduceRequest::PartitionProduceData data;
      data.index = std::get<1>(targets[i]);
      data.records = protocol::Records::of(batches[i]);
      topic.partition_data.push_back(std::move(data));
      request.topic_data.push_back(std::move(topic));
    }
    return decode<ProduceResponse>(call(request, 7, handle_produce), 7);
  }

  Offset high_watermark(const std::string& topic, int32_t partition) {
    Result<PartitionOffsets> offsets = run(manager_->offsets(topic, PartitionId(partition)));
    return offsets.ok() ? offsets->high_watermark : Offset(-1);
  }

  fs::path dir_;
  std::unique_ptr<configs::DynamicConfigStore> dynamic_;
  BrokerState state_;
  std::vector<uint8_t> reply_bytes_;
};

TEST_F(ProduceFetchTest, AcksAllAppendsOnEveryShardAndOffsetsContinue) {
  create("orders", 4);
  ASSERT_NE(state_.shard_of("orders", PartitionId(0)), state_.shard_of("orders", PartitionId(1)));
  ProduceResponse first = produce(-1, {{"orders", 0, 3}, {"orders", 1, 2}, {"orders", 3, 1}});
  ASSERT_EQ(first.responses.size(), 3u);
  for (const auto& topic : first.responses) {
    ASSERT_EQ(topic.partition_responses.size(), 1u);
    EXPECT_EQ(topic.partition_responses[0].error_code, 0);
    EXPECT_EQ(topic.partition_responses[0].base_offset, 0);
  }
  ProduceResponse second = produce(-1, {{"orders", 0, 2}, {"orders", 1, 5}});
  EXPECT_EQ(second.responses[0].partition_responses[0].base_offset, 3);
  EXPECT_EQ(second.responses[1].partition_responses[0].base_offset, 2);
  EXPECT_EQ(high_watermark("orders", 0), Offset(5));
  EXPECT_EQ(high_watermark("orders", 1), Offset(7));
  EXPECT_EQ(high_watermark("orders", 2), Offset(0));
  EXPECT_EQ(high_watermark("orders", 3), Offset(1));
}

TEST_F(ProduceFetchTest, AcksZeroHasNoReplyButAppends) {
  create("metrics", 1);
  ProduceRequest request;
  request.acks = 0;
  std::vector<uint8_t> records = batch(4, "m");
  ProduceRequest::TopicProduceData topic;
  topic.name = "metrics";
  ProduceRequest::PartitionProduceData data;
  data.records = protocol::Records::of(records);
  topic.partition_data.push_back(std::move(data));
  request.topic_data.push_back(std::move(topic));
  net::Reply reply = call(request, 7, handle_produce);
  EXPECT_EQ(reply.kind, net::Reply::Kind::none);
  EXPECT_EQ(high_watermark("metrics", 0), Offset(4));
}

TEST_F(ProduceFetchTest, RefusalsArePerPartition) {
  create("small", 1, {{"max.message.bytes", "1024"}});
  create("fine", 1);
  ProduceResponse response = produce(-1, {{"missing", 0, 1},
                                          {"fine", -1, 1},
                                          {"fine", 7, 1},
                                          {"__consumer_offsets", 0, 1},
                                          {"fine", 0, 2}});
  auto code = [&](size_t i) { return response.responses[i].partition_responses[0].error_code; };
  EXPECT_EQ(code(0), wire(ErrorCode::unknown_topic_or_partition));
  EXPECT_EQ(code(1), wire(ErrorCode::unknown_topic_or_partition));
  EXPECT_EQ(code(2), wire(ErrorCode::unknown_topic_or_partition));
  EXPECT_EQ(code(3), wire(ErrorCode::invalid_topic_exception));
  EXPECT_EQ(code(4), wire(ErrorCode::none));
  ProduceResponse large = produce(1, {{"small", 0, 4}}, /*value_bytes=*/512);
  EXPECT_EQ(large.responses[0].partition_responses[0].error_code,
            wire(ErrorCode::message_too_large));
  EXPECT_EQ(high_watermark("small", 0), Offset(0));
  ProduceResponse bad_acks = produce(2, {{"fine", 0, 1}});
  EXPECT_EQ(bad_acks.responses[0].partition_responses[0].error_code,
            wire(ErrorCode::invalid_required_acks));
  EXPECT_EQ(high_watermark("fine", 0), Offset(2));
}

TEST_F(ProduceFetchTest, FetchReturnsWhatWasProducedFromTheOffset) {
  create("events", 2);
  produce(-1, {{"events", 1, 3}});
  produce(-1, {{"events", 1, 4}});
  FetchRequest request;
  request.max_wait_ms = 0;
  request.min_bytes = 1;
  FetchRequest::FetchTopic topic;
  topic.topic = "events";
  FetchRequest::FetchPartition partition;
  partition.partition = 1;
  partition.fetch_offset = 3;
  partition.partition_max_bytes = 1 << 20;
  topic.partitions.push_back(partition);
  partition.partition = 0;
  partition.fetch_offset = 0;
  topic.partitions.push_back(partition);
  request.topics.push_back(topic);
  FetchResponse response = decode<FetchResponse>(call(request, 11, handle_fetch), 11);
  ASSERT_EQ(response.responses.size(), 1u);
  ASSERT_EQ(response.responses[0].partitions.size(), 2u);
  const FetchResponse::PartitionData& one = response.responses[0].partitions[0];
  EXPECT_EQ(one.error_code, 0);
  EXPECT_EQ(one.high_watermark, 7);
  ASSERT_TRUE(one.records.inline_bytes.has_value());
  std::vector<int64_t> offsets;
  std::vector<std::string> values;
  protocol::BatchSplitter splitter(*one.records.inline_bytes);
  while (std::optional<model::RecordBatchView> view = splitter.next()) {
    Result<protocol::BatchRecords> records = protocol::BatchRecords::open(*view, 1 << 20);
    ASSERT_TRUE(records.ok());
    protocol::RecordReader reader = records->reader();
    protocol::Record record;
    while (reader.next(&record)) {
      offsets.push_back(record.offset.value());
      values.emplace_back(record.value->begin(), record.value->end());
    }
  }
  EXPECT_EQ(offsets, (std::vector<int64_t>{3, 4, 5, 6}));
  EXPECT_EQ(values.front(), "events-0");
  EXPECT_EQ(values.back(), "events-3");
  const FetchResponse::PartitionData& zero = response.responses[0].partitions[1];
  EXPECT_EQ(zero.error_code, 0);
  EXPECT_EQ(zero.high_watermark, 0);
}

}  // namespace
}  // namespace cairn::broker
