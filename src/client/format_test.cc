#include "client/format.h"

#include <gtest/gtest.h>

#include <sstream>

namespace cairn::client {
namespace {

IncomingRecord sample() {
  IncomingRecord r;
  r.topic = "orders";
  r.partition = 2;
  r.offset = 41;
  r.timestamp_ms = 1'700'000'000'123;
  r.key = "k1";
  r.value = "hello";
  r.headers = {{"trace", "abc"}, {"empty", std::nullopt}};
  return r;
}

std::string format(std::string_view spec, const IncomingRecord& record) {
  auto formatter = RecordFormatter::parse(spec);
  EXPECT_TRUE(formatter.ok()) << formatter.status().to_string();
  std::string out;
  formatter->format(record, out);
  return out;
}

TEST(RecordFormatter, AllFields) {
  EXPECT_EQ(format("%t %T %p %o %d %k %K %v %V %H\\n", sample()),
            "orders 6 2 41 1700000000123 k1 2 hello 5 2\n");
}

TEST(RecordFormatter, HeadersPlainAndSpecified) {
  EXPECT_EQ(format("%h", sample()), "trace=abc,empty=");
  EXPECT_EQ(format("%h{[%k:%v:%V]}", sample()), "[trace:abc:3][empty::-1]");
}

TEST(RecordFormatter, NullKeyAndValuePrintNothing) {
  IncomingRecord r = sample();
  r.key.reset();
  r.value.reset();
  EXPECT_EQ(format("<%k|%v|%K|%V>", r), "<||-1|-1>");
}

TEST(RecordFormatter, EscapesAndModifiers) {
  EXPECT_EQ(format("%%%{%}\\t\\x41\\\\", sample()), "%{}\tA\\");
  EXPECT_EQ(format("%v{hex} %v{base64} %k{base64}", sample()), "68656c6c6f aGVsbG8= azE=");
  EXPECT_EQ(format("%i %i", sample()), "1 1");
}

TEST(RecordFormatter, RecordNumberCounts) {
  auto formatter = *RecordFormatter::parse("%i,");
  std::string out;
  formatter.format(sample(), out);
  formatter.format(sample(), out);
  EXPECT_EQ(out, "1,2,");
}

TEST(RecordFormatter, RejectsBadFormats) {
  EXPECT_FALSE(RecordFormatter::parse("%q").ok());
  EXPECT_FALSE(RecordFormatter::parse("abc%").ok());
  EXPECT_FALSE(RecordFormatter::parse("%h{%p}").ok());
  EXPECT_FALSE(RecordFormatter::parse("%h{%k").ok());
  EXPECT_FALSE(RecordFormatter::parse("%v{big64}").ok());
  EXPECT_FALSE(RecordFormatter::parse("\\q").ok());
  EXPECT_FALSE(RecordFormatter::parse("\\x4").ok());
}

TEST(RecordToJson, RpkShape) {
  EXPECT_EQ(record_to_json(sample()),
            R"({"topic":"orders","key":"k1","value":"hello","headers":[{"key":"trace","value":)"
            R"("abc"},{"key":"empty","value":null}],"timestamp":1700000000123,"partition":2,)"
            R"("offset":41})");
  IncomingRecord r = sample();
  r.key.reset();
  r.headers.clear();
  r.value = std::string("a\xff", 2);
  EXPECT_EQ(record_to_json(r),
            "{\"topic\":\"orders\",\"key\":null,\"value\":\"a\xEF\xBF\xBD\",\"headers\":[],"
            R"("timestamp":1700000000123,"partition":2,"offset":41})");
}

std::vector<ParsedInput> parse_all(std::string_view spec, const std::string& input) {
  auto parser = InputParser::parse(spec);
  EXPECT_TRUE(parser.ok()) << parser.status().to_string();
  std::istringstream in(input);
  std::vector<ParsedInput> records;
  ParsedInput record;
  while (true) {
    auto more = parser->next(in, record);
    EXPECT_TRUE(more.ok()) << more.status().to_string();
    if (!more.ok() || !*more) break;
    records.push_back(record);
  }
  return records;
}

TEST(InputParser, LinesAndLastLineWithoutNewline) {
  auto records = parse_all("%v\\n", "a\nbb\n\nc");
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[0].value, "a");
  EXPECT_EQ(records[1].value, "bb");
  EXPECT_EQ(records[2].value, "");
  EXPECT_EQ(records[3].value, "c");
  EXPECT_FALSE(records[0].key.has_value());
}

TEST(InputParser, KeyValuePartitionWithMultiByteDelimiters) {
  auto records = parse_all("%p|%k::%v\\n", "1|a::x:y\n0|b::\n");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].partition, 1);
  EXPECT_EQ(records[0].key, "a");
  EXPECT_EQ(records[0].value, "x:y");
  EXPECT_EQ(records[1].partition, 0);
  EXPECT_EQ(records[1].key, "b");
  EXPECT_EQ(records[1].value, "");
}

TEST(InputParser, WholeInputAsOneValue) {
  auto records = parse_all("%v", "line1\nline2\n");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].value, "line1\nline2\n");
}

TEST(InputParser, MismatchedInputIsAnError) {
  auto parser = *InputParser::parse("%k:%v\\n");
  std::istringstream in("no-delimiter-here");
  ParsedInput record;
  EXPECT_FALSE(parser.next(in, record).ok());
  auto partitioned = *InputParser::parse("%p %v\\n");
  std::istringstream bad("x hello\n");
  EXPECT_FALSE(partitioned.next(bad, record).ok());
}

TEST(InputParser, RejectsBadFormats) {
  EXPECT_FALSE(InputParser::parse("%k").ok());     // no value
  EXPECT_FALSE(InputParser::parse("%k%v").ok());   // no delimiter
  EXPECT_FALSE(InputParser::parse("%t %v").ok());  // unsupported field
}

}  // namespace
}  // namespace cairn::client
