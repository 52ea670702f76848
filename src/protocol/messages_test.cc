// Tests of the generated message codecs (src/protocol/generated) and the request header.
//
// Every request and response type round-trips at every served version, with every field
// that exists at that version set to a distinct non-default value (and again with nullable
// fields null): encode -> decode gives an equal struct and re-encodes to the same bytes, and
// every strict prefix of the encoding fails to decode.
#include <gtest/gtest.h>
#include <stdio.h>
#include <unistd.h>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "protocol/generated/api_catalog.h"
#include "protocol/generated/testing/samples.h"
#include "protocol/request_header.h"

namespace cairn::protocol {
namespace {

using testing::SampleContext;

template <typename T>
T make_sample(int16_t version, bool nulls) {
  SampleContext c;
  c.version = version;
  c.nulls = nulls;
  T sample;
  testing::fill_sample(sample, c);
  return sample;
}

template <typename T>
std::vector<uint8_t> encode(const T& message, int16_t version) {
  Writer w;
  message.encode(w, version);
  EXPECT_EQ(w.size(), w.buffer().size()) << "unexpected file-range splices";
  return w.buffer();
}

template <typename T>
void expect_round_trip(const char* name, int16_t version, bool nulls) {
  SCOPED_TRACE(std::string(name) + " v" + std::to_string(version) + (nulls ? " nulls" : ""));
  T sample = make_sample<T>(version, nulls);
  std::vector<uint8_t> bytes = encode(sample, version);

  Reader r(bytes);
  T decoded;
  ASSERT_TRUE(decoded.decode(r, version)) << r.error();
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_TRUE(decoded == sample);
  EXPECT_EQ(encode(decoded, version), bytes);

  for (size_t size = 0; size < bytes.size(); size++) {
    Reader prefix(std::span<const uint8_t>(bytes.data(), size));
    T partial;
    ASSERT_FALSE(partial.decode(prefix, version)) << "prefix of " << size << " bytes decoded";
  }
}

template <typename T>
void expect_all_versions_round_trip(const char* name) {
  for (int16_t v = T::kMinVersion; v <= T::kMaxVersion; v++) {
    expect_round_trip<T>(name, v, false);
    expect_round_trip<T>(name, v, true);
  }
}

#define CAIRN_ROUND_TRIP_TEST(Name)                                           \
  TEST(MessagesRoundTrip, Name) {                                             \
    expect_all_versions_round_trip<Name##Request>(#Name "Request");           \
    expect_all_versions_round_trip<Name##Response>(#Name "Response");         \
    static_assert(Name##Request::kApiKey == Name##Response::kApiKey);         \
    static_assert(Name##Request::kMinVersion == Name##Response::kMinVersion); \
    static_assert(Name##Request::kMaxVersion == Name##Response::kMaxVersion); \
  }
CAIRN_FOR_EACH_GENERATED_API(CAIRN_ROUND_TRIP_TEST)
#undef CAIRN_ROUND_TRIP_TEST

// A made-up API (tools/codegen/testdata) that uses every feature the generator supports.
TEST(MessagesRoundTrip, CodecFeatures) {
  expect_all_versions_round_trip<CodecFeaturesRequest>("CodecFeaturesRequest");
  expect_all_versions_round_trip<CodecFeaturesResponse>("CodecFeaturesResponse");
}

TEST(MessagesEncode, TaggedFieldsAreWrittenOnlyWhenNotDefault) {
  CodecFeaturesRequest request;
  std::vector<uint8_t> defaults = encode(request, 3);
  EXPECT_EQ(defaults.back(), 0);  // empty tagged-field section
  request.tagged_int = 43;
  request.tagged_point.a = 7;
  std::vector<uint8_t> tagged = encode(request, 3);
  // Section: count 2; tag 1, size 4, int32 43; tag 5, size 3: TaggedPoint is int16 7 and its
  // own (empty) tagged-field section.
  std::vector<uint8_t> tail = {2, 1, 4, 0, 0, 0, 43, 5, 3, 0, 7, 0};
  ASSERT_GE(tagged.size(), tail.size());
  EXPECT_EQ(std::vector<uint8_t>(tagged.end() - static_cast<ptrdiff_t>(tail.size()), tagged.end()),
            tail);
  EXPECT_EQ(tagged.size(), defaults.size() - 1 + tail.size());
  Reader r(tagged);
  CodecFeaturesRequest decoded;
  ASSERT_TRUE(decoded.decode(r, 3));
  EXPECT_TRUE(decoded == request);
  // At v2 the tagged int does not exist yet: it is neither written nor read.
  std::vector<uint8_t> v2 = encode(request, 2);
  Reader r2(v2);
  ASSERT_TRUE(decoded.decode(r2, 2));
  EXPECT_EQ(decoded.tagged_int, 42);
  EXPECT_EQ(decoded.tagged_point.a, 7);
}

TEST(MessagesRoundTrip, SamplesSetFieldsToNonDefaultValues) {
  // Guards the premise of the round-trip tests: a sample is not just a default message.
  EXPECT_FALSE(make_sample<MetadataResponse>(8, false) == MetadataResponse());
  MetadataRequest request = make_sample<MetadataRequest>(4, false);
  EXPECT_FALSE(request.allow_auto_topic_creation);  // default is true
  ASSERT_TRUE(request.topics.has_value());
  EXPECT_EQ(request.topics->size(), 2u);
  EXPECT_FALSE(make_sample<MetadataRequest>(1, true).topics.has_value());
}

// --- The catalog -------------------------------------------------------------------------------

TEST(ApiCatalog, MatchesTheGeneratedTypes) {
  std::set<int16_t> keys;
#define CAIRN_CHECK_CATALOG(Name)                                                 \
  {                                                                               \
    const ApiInfo* api = find_api(Name##Request::kApiKey);                        \
    ASSERT_NE(api, nullptr) << #Name;                                             \
    EXPECT_STREQ(api->name, #Name);                                               \
    EXPECT_EQ(api->min_version, Name##Request::kMinVersion);                      \
    EXPECT_EQ(api->max_version, Name##Request::kMaxVersion);                      \
    EXPECT_EQ(api->first_flexible_version, Name##Request::kFirstFlexibleVersion); \
    keys.insert(api->api_key);                                                    \
  }
  CAIRN_FOR_EACH_GENERATED_API(CAIRN_CHECK_CATALOG)
#undef CAIRN_CHECK_CATALOG
  EXPECT_EQ(keys.size(), kApiCatalog.size());
  for (size_t i = 1; i < kApiCatalog.size(); i++) {
    EXPECT_LT(kApiCatalog[i - 1].api_key, kApiCatalog[i].api_key);
  }
  EXPECT_EQ(find_api(-1), nullptr);
  EXPECT_EQ(find_api(1000), nullptr);
}

TEST(ApiCatalog, ServesTheRecommendedRanges) {
  // Spot checks against shared/reference/kafka-clients-and-protocol.md section 0.
  // Produce v0-2 and Fetch v0-3 carry message formats v0/v1, converted (legacy_records.h).
  EXPECT_EQ(find_api(0)->min_version, 0);  // Produce
  EXPECT_EQ(find_api(0)->max_version, 11);
  EXPECT_EQ(find_api(1)->min_version, 0);  // Fetch
  EXPECT_EQ(find_api(1)->max_version, 17);
  EXPECT_EQ(find_api(18)->max_version, 4);  // ApiVersions
  EXPECT_EQ(find_api(3)->max_version, 12);  // Metadata
  EXPECT_EQ(kApiCatalog.size(), 46u);
  EXPECT_EQ(find_api(48)->max_version, 1);  // DescribeClientQuotas
  EXPECT_EQ(find_api(49)->max_version, 1);  // AlterClientQuotas
  EXPECT_EQ(find_api(68)->max_version, 0);  // ConsumerGroupHeartbeat (KIP-848)
  EXPECT_EQ(find_api(69)->max_version, 0);  // ConsumerGroupDescribe
}

TEST(ApiCatalog, HeaderVersionsFollowFlexibleVersions) {
  EXPECT_EQ(request_header_version(3, 8), 1);  // Metadata v8
  EXPECT_EQ(response_header_version(3, 8), 0);
  EXPECT_EQ(request_header_version(3, 9), 2);  // unserved but flexible
  EXPECT_EQ(response_header_version(3, 9), 1);
  EXPECT_EQ(request_header_version(60, 0), 2);  // DescribeCluster: flexible from v0
  EXPECT_EQ(response_header_version(60, 0), 1);
  EXPECT_EQ(request_header_version(17, 1), 1);  // SaslHandshake: never flexible
  EXPECT_EQ(request_header_version(1000, 0), -1);
  EXPECT_EQ(response_header_version(1000, 0), -1);
}

TEST(ApiCatalog, ApiVersionsResponseAlwaysUsesHeaderV0) {
  EXPECT_EQ(request_header_version(18, 2), 1);
  EXPECT_EQ(request_header_version(18, 3), 2);
  EXPECT_EQ(request_header_version(18, 4), 2);  // unserved v4 must still parse (KIP-511)
  for (int16_t v = 0; v <= 4; v++) EXPECT_EQ(response_header_version(18, v), 0);
}

// --- Headers -----------------------------------------------------------------------------------

TEST(RequestHeader, RoundTripsV1AndV2) {
  for (int16_t version : {int16_t{2}, int16_t{3}}) {
    RequestHeader header;
    header.api_key = ApiVersionsRequest::kApiKey;
    header.api_version = version;
    header.correlation_id = 77;
    header.client_id = "rdkafka";
    Writer w;
    encode_request_header(w, header);
    w.write_int8(42);  // first body byte
    Reader r(w.buffer());
    Result<RequestHeader> decoded = decode_request_header(r);
    ASSERT_TRUE(decoded.ok()) << decoded.status().to_string();
    EXPECT_EQ(decoded->header_version, version >= 3 ? 2 : 1);
    header.header_version = decoded->header_version;
    EXPECT_TRUE(*decoded == header);
    EXPECT_EQ(r.read_int8(), 42);
  }
}

TEST(RequestHeader, NullClientIdAndTaggedFieldsInV2) {
  Writer w;
  w.write_int16(60);  // DescribeCluster v0: header v2
  w.write_int16(0);
  w.write_int32(5);
  w.write_int16(-1);  // null client id, int16 length even in v2
  w.write_unsigned_varint(1);
  w.write_unsigned_varint(9);  // unknown tag, skipped
  w.write_unsigned_varint(2);
  w.write_int16(0x0102);
  w.write_int8(42);
  Reader r(w.buffer());
  Result<RequestHeader> header = decode_request_header(r);
  ASSERT_TRUE(header.ok()) << header.status().to_string();
  EXPECT_FALSE(header->client_id.has_value());
  EXPECT_EQ(header->correlation_id, 5);
  EXPECT_EQ(header->header_version, 2);
  EXPECT_EQ(r.read_int8(), 42);
}

TEST(RequestHeader, UnknownApiKeyParsesAsV1) {
  Writer w;
  w.write_int16(999);
  w.write_int16(7);
  w.write_int32(11);
  w.write_string("x");
  Reader r(w.buffer());
  Result<RequestHeader> header = decode_request_header(r);
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(header->api_key, 999);
  EXPECT_EQ(header->correlation_id, 11);
  EXPECT_EQ(header->header_version, 1);
}

TEST(RequestHeader, TruncatedHeaderIsCorrupt) {
  RequestHeader header;
  header.api_key = 3;
  header.api_version = 1;
  header.client_id = "client";
  Writer w;
  encode_request_header(w, header);
  for (size_t size = 0; size < w.buffer().size(); size++) {
    Reader r(std::span<const uint8_t>(w.buffer().data(), size));
    Result<RequestHeader> decoded = decode_request_header(r);
    ASSERT_FALSE(decoded.ok()) << size;
    EXPECT_EQ(decoded.status().code(), StatusCode::corrupt);
  }
}

TEST(ResponseHeader, FrameSizeAndHeaderVersions) {
  RequestHeader request;
  request.api_key = ApiVersionsRequest::kApiKey;
  request.api_version = 3;
  request.correlation_id = 9;
  Writer w;
  size_t size_at = begin_response_frame(w, request);
  ApiVersionsResponse response;
  response.api_keys.push_back({18, 0, 3});
  response.encode(w, 3);
  end_response_frame(w, size_at);
  Reader r(w.buffer());
  EXPECT_EQ(r.read_int32(), static_cast<int32_t>(w.size() - 4));
  Result<int32_t> correlation_id = decode_response_header(r, request.api_key, 3);
  ASSERT_TRUE(correlation_id.ok());
  EXPECT_EQ(*correlation_id, 9);
  EXPECT_EQ(r.read_int16(), 0);  // error_code right after: no tagged fields in header v0
  ApiVersionsResponse decoded;
  Reader body(std::span<const uint8_t>(w.buffer()).subspan(8));
  ASSERT_TRUE(decoded.decode(body, 3));
  EXPECT_TRUE(decoded == response);

  Writer flexible;
  request.api_key = DescribeClusterRequest::kApiKey;
  request.api_version = 0;
  encode_response_header(flexible, request);
  EXPECT_EQ(flexible.buffer(), (std::vector<uint8_t>{0, 0, 0, 9, 0}));
}

// --- Decoding edge cases -----------------------------------------------------------------------

std::vector<uint8_t> api_versions_v3_request_with_tags(const std::vector<uint8_t>& tags) {
  Writer w;
  w.write_compact_string("librdkafka");
  w.write_compact_string("2.0.2");
  w.write_raw(tags);
  return w.buffer();
}

TEST(MessagesDecode, UnknownTaggedFieldsAreSkipped) {
  std::vector<uint8_t> bytes = api_versions_v3_request_with_tags({2, 5, 1, 0xaa, 9, 2, 1, 2});
  Reader r(bytes);
  ApiVersionsRequest request;
  ASSERT_TRUE(request.decode(r, 3)) << r.error();
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_EQ(request.client_software_name, "librdkafka");
  EXPECT_EQ(encode(request, 3), api_versions_v3_request_with_tags({0}));
}

TEST(MessagesDecode, TaggedFieldsOutOfOrderFail) {
  std::vector<uint8_t> bytes = api_versions_v3_request_with_tags({2, 9, 1, 0xaa, 5, 0});
  Reader r(bytes);
  ApiVersionsRequest request;
  EXPECT_FALSE(request.decode(r, 3));
}

TEST(MessagesDecode, KnownTaggedFieldWithTrailingBytesFails) {
  ApiVersionsResponse response;
  response.finalized_features_epoch = 7;
  std::vector<uint8_t> bytes = encode(response, 3);
  // Body: error_code(2) api_keys(1) throttle(4) tags: count 1, tag 1, size 8, int64.
  ASSERT_EQ(bytes.size(), 2u + 1 + 4 + 1 + 1 + 1 + 8);
  ASSERT_EQ(bytes[9], 8);
  bytes[9] = 9;  // claim 9 bytes, add one trailing byte
  bytes.push_back(0);
  Reader r(bytes);
  ApiVersionsResponse decoded;
  EXPECT_FALSE(decoded.decode(r, 3));
  EXPECT_STREQ(r.error(), "tagged field has trailing bytes");
}

TEST(MessagesDecode, HugeArrayCountFailsBeforeAllocating) {
  Writer w;
  w.write_int32(0x7fffffff);  // topics count in Metadata v1
  Reader r(w.buffer());
  MetadataRequest request;
  EXPECT_FALSE(request.decode(r, 1));
  EXPECT_STREQ(r.error(), "array count exceeds frame");
}

TEST(MessagesDecode, NullWhereNotNullableFails) {
  Writer w;
  w.write_int32(-1);  // null topics: legal from v1, not in v0
  Reader v1(w.buffer());
  MetadataRequest request;
  ASSERT_TRUE(request.decode(v1, 1));
  EXPECT_FALSE(request.topics.has_value());
  Reader v0(w.buffer());
  EXPECT_FALSE(request.decode(v0, 0));
}

TEST(MessagesDecode, UnservedVersionFails) {
  std::vector<uint8_t> bytes = encode(make_sample<MetadataRequest>(8, false), 8);
  Reader r(bytes);
  MetadataRequest request;
  EXPECT_FALSE(request.decode(r, MetadataRequest::kMaxVersion + 1));
  EXPECT_STREQ(r.error(), "unsupported version");
  Reader r2(bytes);
  ProduceRequest produce;
  EXPECT_FALSE(produce.decode(r2, 8));  // Produce v8 is not served
}

TEST(MessagesDecode, ProduceRecordsAreAViewIntoTheFrame) {
  std::vector<uint8_t> batch = {1, 2, 3, 4, 5, 6, 7};
  ProduceRequest request;
  request.acks = -1;
  request.timeout_ms = 1500;
  request.topic_data.resize(1);
  request.topic_data[0].name = "orders";
  request.topic_data[0].partition_data.resize(1);
  request.topic_data[0].partition_data[0].index = 3;
  request.topic_data[0].partition_data[0].records = Records::of(batch);
  std::vector<uint8_t> frame = encode(request, 7);

  Reader r(frame);
  ProduceRequest decoded;
  ASSERT_TRUE(decoded.decode(r, 7));
  const Records& records = decoded.topic_data[0].partition_data[0].records;
  ASSERT_TRUE(records.inline_bytes.has_value());
  EXPECT_GE(records.inline_bytes->data(), frame.data());
  EXPECT_LE(records.inline_bytes->data() + records.inline_bytes->size(),
            frame.data() + frame.size());
  EXPECT_TRUE(std::equal(records.inline_bytes->begin(), records.inline_bytes->end(), batch.begin(),
                         batch.end()));
  EXPECT_FALSE(decoded.transactional_id.has_value());
}

// A real file for the sendfile splices: records written partly inline, partly from the file.
class TempFile {
 public:
  explicit TempFile(const std::vector<uint8_t>& contents) {
    char path[] = "/tmp/cairn_messages_test_XXXXXX";
    fd_ = mkstemp(path);
    EXPECT_GE(fd_, 0);
    unlink(path);
    EXPECT_EQ(write(fd_, contents.data(), contents.size()), static_cast<ssize_t>(contents.size()));
  }
  ~TempFile() { close(fd_); }
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

// Materialises a frame the way the network layer sends it: buffer bytes with file ranges
// read from their files at the splice points.
std::vector<uint8_t> materialise(const Frame& frame) {
  std::vector<uint8_t> out;
  size_t at = 0;
  for (const Splice& splice : frame.splices) {
    out.insert(out.end(), frame.bytes.begin() + at, frame.bytes.begin() + splice.at);
    std::vector<uint8_t> chunk(splice.range.size);
    EXPECT_EQ(pread(splice.range.fd, chunk.data(), chunk.size(), splice.range.offset),
              static_cast<ssize_t>(chunk.size()));
    out.insert(out.end(), chunk.begin(), chunk.end());
    at = splice.at;
  }
  out.insert(out.end(), frame.bytes.begin() + at, frame.bytes.end());
  return out;
}

TEST(MessagesEncode, FetchRecordsSpliceFileRanges) {
  std::vector<uint8_t> file_bytes;
  for (int i = 0; i < 100; i++) file_bytes.push_back(static_cast<uint8_t>(i));
  TempFile file(file_bytes);
  std::vector<uint8_t> head = {0xee, 0xff};

  FetchResponse response;
  response.responses.resize(1);
  response.responses[0].topic = "t";
  response.responses[0].partitions.resize(2);
  auto& spliced = response.responses[0].partitions[0];
  spliced.records.inline_bytes = head;
  spliced.records.file_ranges.push_back(FileRange{file.fd(), 10, 20, nullptr});
  spliced.records.file_ranges.push_back(FileRange{file.fd(), 50, 5, nullptr});
  response.responses[0].partitions[1].partition_index = 1;  // null records

  for (int16_t version : {int16_t{4}, int16_t{11}}) {
    Writer w;
    response.encode(w, version);
    Frame frame = std::move(w).finish();
    ASSERT_EQ(frame.splices.size(), 2u);
    std::vector<uint8_t> bytes = materialise(frame);
    EXPECT_EQ(bytes.size(), frame.size());

    Reader r(bytes);
    FetchResponse decoded;
    ASSERT_TRUE(decoded.decode(r, version)) << r.error();
    EXPECT_EQ(r.remaining(), 0u);
    const Records& records = decoded.responses[0].partitions[0].records;
    ASSERT_TRUE(records.inline_bytes.has_value());
    std::vector<uint8_t> expected = head;
    expected.insert(expected.end(), file_bytes.begin() + 10, file_bytes.begin() + 30);
    expected.insert(expected.end(), file_bytes.begin() + 50, file_bytes.begin() + 55);
    EXPECT_EQ(std::vector<uint8_t>(records.inline_bytes->begin(), records.inline_bytes->end()),
              expected);
    EXPECT_TRUE(decoded.responses[0].partitions[1].records.is_null());
  }
}

}  // namespace
}  // namespace cairn::protocol
