// request_fuzz_seeds DIR: writes one sample request frame body (header + body) per served API,
// version and null-ness into DIR, to seed request_fuzz's corpus so that the fuzzer starts with
// every request type at every version. Run by the build after request_fuzz is linked.
#include <cstdio>
#include <string>

#include "protocol/generated/testing/samples.h"
#include "protocol/request_header.h"

namespace cairn::protocol {
namespace {

template <typename T>
int write_seeds(const std::string& dir, const char* name) {
  int written = 0;
  for (int16_t version = T::kMinVersion; version <= T::kMaxVersion; version++) {
    for (bool nulls : {false, true}) {
      testing::SampleContext c;
      c.version = version;
      c.nulls = nulls;
      T request;
      testing::fill_sample(request, c);
      RequestHeader header;
      header.api_key = T::kApiKey;
      header.api_version = version;
      header.correlation_id = 1;
      header.client_id = "seed";
      Writer w;
      encode_request_header(w, header);
      request.encode(w, version);
      std::string path = dir + "/sample-" + name + "-v" + std::to_string(version) +
                         (nulls ? "-nulls" : "") + ".bin";
      FILE* f = fopen(path.c_str(), "wb");
      if (f == nullptr) {
        perror(path.c_str());
        return -1;
      }
      fwrite(w.buffer().data(), 1, w.buffer().size(), f);
      fclose(f);
      written++;
    }
  }
  return written;
}

}  // namespace
}  // namespace cairn::protocol

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: request_fuzz_seeds DIR\n");
    return 2;
  }
  int total = 0;
#define CAIRN_WRITE_SEEDS(Name)                                                           \
  {                                                                                       \
    int n = cairn::protocol::write_seeds<cairn::protocol::Name##Request>(argv[1], #Name); \
    if (n < 0) return 1;                                                                  \
    total += n;                                                                           \
  }
  CAIRN_FOR_EACH_GENERATED_API(CAIRN_WRITE_SEEDS)
#undef CAIRN_WRITE_SEEDS
  printf("request_fuzz_seeds: %d seeds in %s\n", total, argv[1]);
  return 0;
}
