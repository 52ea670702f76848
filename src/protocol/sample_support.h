// SampleContext: the source of sample field values for the generated fill_sample functions
// (generated/testing/*_samples.cc). Each call returns a fresh value that differs from every
// default in Kafka's specs, so a field decoded into the wrong member, or dropped, shows up as
// a difference. Test-only; one context per sample, any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "protocol/message_support.h"

namespace cairn::protocol::testing {

struct SampleContext {
  int16_t version = 0;
  // Leave nullable fields null (and nullable arrays null, other arrays one element long).
  bool nulls = false;
  uint32_t counter = 0;

  int8_t next_int8() { return static_cast<int8_t>(10 + next() % 100); }
  int16_t next_int16() { return static_cast<int16_t>(100 + next() % 1000); }
  uint16_t next_uint16() { return static_cast<uint16_t>(40000 + next() % 1000); }
  int32_t next_int32() { return static_cast<int32_t>(100000 + next()); }
  uint32_t next_uint32() { return 3000000000u + next(); }
  int64_t next_int64() { return int64_t{10000000000} + next(); }
  double next_float64() { return 0.5 + next(); }
  Uuid next_uuid();
  std::string next_string() { return "s" + std::to_string(next()); }
  std::vector<uint8_t> next_bytes();
  // A view into static storage (a fake record batch: only the length matters here).
  Records next_records();

  template <typename T, typename F>
  void fill_items(std::vector<T>& items, F&& fill_item) {
    items.resize(nulls ? 1 : 2);
    for (T& item : items) fill_item(item);
  }

 private:
  uint32_t next() { return ++counter; }
};

}  // namespace cairn::protocol::testing
