// `cairn produce TOPIC`: records from stdin or a file, one per line by default.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "client/format.h"
#include "client/producer.h"
#include "main/cli_common.h"

namespace cairn::cli {

namespace {

struct ProduceFlags {
  ConnectionFlags connection;
  std::string topic;
  std::string file;
  std::string format;
  std::string key;
  bool has_key = false;
  std::string key_delimiter;
  std::vector<std::string> headers;
  std::string compression = "none";
  std::string acks = "all";
  int32_t partition = -1;
  bool tombstone = false;
  bool verbose = false;
  std::string output_format;
};

// The input format implied by the flags: --format, --key-delim, or one value per line.
Result<std::string> input_format(const ProduceFlags& flags) {
  if (!flags.format.empty() && !flags.key_delimiter.empty()) {
    return error(StatusCode::invalid_argument, "give --format or --key-delim, not both");
  }
  if (!flags.format.empty()) return flags.format;
  if (!flags.key_delimiter.empty()) {
    std::string delimiter;
    for (char c : flags.key_delimiter) {
      if (c == '%')
        delimiter += "%%";
      else
        delimiter += c;
    }
    return "%k" + delimiter + "%v\\n";
  }
  return std::string("%v\\n");
}

Result<std::vector<client::Header>> parse_headers(const std::vector<std::string>& items) {
  std::vector<client::Header> headers;
  for (const std::string& item : items) {
    // key=value as the brief of every other flag here; key:value as rpk writes it.
    size_t split = item.find('=');
    if (split == std::string::npos) split = item.find(':');
    if (split == std::string::npos || split == 0) {
      return error(StatusCode::invalid_argument,
                   fmt::format("header '{}' is not of the form key=value", item));
    }
    headers.push_back({item.substr(0, split), item.substr(split + 1)});
  }
  return headers;
}

Result<client::Settings> producer_settings(const ProduceFlags& flags, int timeout_ms) {
  static const std::vector<std::string> kCodecs = {"none", "gzip", "snappy", "lz4", "zstd"};
  if (std::find(kCodecs.begin(), kCodecs.end(), flags.compression) == kCodecs.end()) {
    return error(
        StatusCode::invalid_argument,
        fmt::format("--compression '{}' is not none|gzip|snappy|lz4|zstd", flags.compression));
  }
  std::string acks = flags.acks == "-1" ? "all" : flags.acks;
  if (acks != "all" && acks != "1" && acks != "0") {
    return error(StatusCode::invalid_argument,
                 fmt::format("--acks '{}' is not all|-1|1|0", flags.acks));
  }
  return client::Settings{{"acks", acks},
                          {"compression.type", flags.compression},
                          {"message.timeout.ms", std::to_string(timeout_ms)}};
}

struct Counters {
  uint64_t delivered = 0;
  uint64_t failed = 0;
};

Result<std::optional<client::RecordFormatter>> output_formatter(const ProduceFlags& flags) {
  if (flags.output_format.empty() && !flags.verbose) {
    return std::optional<client::RecordFormatter>();
  }
  auto parsed = client::RecordFormatter::parse(flags.output_format.empty() ? "%t %p %o\\n"
                                                                           : flags.output_format);
  if (!parsed.ok()) return parsed.status();
  return std::optional<client::RecordFormatter>(std::move(*parsed));
}

// Queues every input record; `sequence` ends as the number queued.
Status produce_all(client::Producer& producer, client::InputParser& parser, std::istream& in,
                   const ProduceFlags& flags, const std::vector<client::Header>& headers,
                   uint64_t& sequence) {
  client::ParsedInput input;
  while (true) {
    auto more = parser.next(in, input);
    if (!more.ok()) return more.status();
    if (!*more) return Status::ok_status();
    client::OutgoingRecord record;
    if (flags.has_key) record.key = flags.key;
    if (input.key) record.key = std::move(input.key);
    if (!(flags.tombstone && input.value.empty())) record.value = std::move(input.value);
    record.headers = headers;
    record.partition = input.partition.value_or(flags.partition);
    RETURN_IF_ERROR(producer.produce(flags.topic, record, sequence));
    sequence++;
    producer.poll(0);
  }
}

Status run_produce(const ProduceFlags& flags) {
  auto format = input_format(flags);
  if (!format.ok()) return format.status();
  auto parser = client::InputParser::parse(*format);
  if (!parser.ok()) return parser.status();
  if (flags.has_key && format->find("%k") != std::string::npos) {
    return error(StatusCode::invalid_argument, "give --key or a key in the input, not both");
  }
  auto headers = parse_headers(flags.headers);
  if (!headers.ok()) return headers.status();
  auto output = output_formatter(flags);
  if (!output.ok()) return output.status();
  auto options = client_options(flags.connection);
  if (!options.ok()) return options.status();
  auto settings = producer_settings(flags, options->timeout_ms);
  if (!settings.ok()) return settings.status();
  std::ifstream file;
  if (!flags.file.empty() && flags.file != "-") {
    errno = 0;
    file.open(flags.file, std::ios::binary);
    int open_errno = errno;
    std::error_code ignored;
    if (file && std::filesystem::is_directory(flags.file, ignored)) open_errno = EISDIR;
    if (!file || open_errno == EISDIR) {
      return error(StatusCode::not_found,
                   fmt::format("cannot open {}: {}", flags.file,
                               std::strerror(open_errno != 0 ? open_errno : ENOENT)));
    }
  }
  std::istream& in = file.is_open() ? static_cast<std::istream&>(file) : std::cin;

  Counters counters;
  auto on_delivery = [&](const client::Delivery& delivery) {
    if (!delivery.status.ok()) {
      if (++counters.failed <= 5) fmt::print(stderr, "error: {}\n", delivery.status.message());
      return;
    }
    counters.delivered++;
    if (!*output) return;
    client::IncomingRecord record;
    record.topic = delivery.topic;
    record.partition = delivery.partition;
    record.offset = delivery.offset;
    record.timestamp_ms = delivery.timestamp_ms;
    std::string line;
    (*output)->format(record, line);
    std::fwrite(line.data(), 1, line.size(), stdout);
  };
  auto producer = client::Producer::create(*options, *settings, on_delivery);
  if (!producer.ok()) return producer.status();
  uint64_t sequence = 0;
  Status produced = produce_all(**producer, *parser, in, flags, *headers, sequence);
  // Every record has its own delivery timeout, so a flush a little longer sees every outcome.
  Status flushed = (*producer)->flush(options->timeout_ms + 2'000);
  std::fflush(stdout);
  if (!produced.ok()) return produced;
  if (counters.failed > 0) {
    return error(StatusCode::io_error,
                 fmt::format("{} of {} records were not delivered", counters.failed, sequence));
  }
  if (!flushed.ok()) return flushed;
  if (!*output) {
    fmt::print(stderr, "Produced {} record{} to topic '{}'.\n", counters.delivered,
               counters.delivered == 1 ? "" : "s", flags.topic);
  }
  return Status::ok_status();
}

}  // namespace

void add_produce_command(CLI::App& app) {
  auto flags = std::make_shared<ProduceFlags>();
  CLI::App* cmd = app.add_subcommand(
      "produce", "Produce records read from stdin (or a file), one per line by default");
  cmd->add_option("topic", flags->topic, "Topic to produce to")->required();
  cmd->add_option("-f,--file", flags->file, "Read records from this file instead of stdin");
  cmd->add_option("-Z,--format", flags->format,
                  "Input format with %k %v %p and literal delimiters (default '%v\\n')");
  cmd->add_option("-k,--key", flags->key, "Key for every record")
      ->each([flags](const std::string&) { flags->has_key = true; });
  cmd->add_option("--key-delim", flags->key_delimiter,
                  "Split each line into key and value at the first occurrence of this text");
  cmd->add_option("-H,--header", flags->headers, "Header key=value for every record (repeatable)");
  cmd->add_option("-z,--compression", flags->compression, "none, gzip, snappy, lz4 or zstd")
      ->capture_default_str();
  cmd->add_option("--acks", flags->acks, "all (-1), 1 or 0")->capture_default_str();
  cmd->add_option("-p,--partition", flags->partition,
                  "Partition for every record (-1: by key hash, or spread when unkeyed)")
      ->capture_default_str();
  cmd->add_flag("--tombstone", flags->tombstone, "Produce empty values as null (tombstones)");
  cmd->add_flag("-v,--verbose", flags->verbose, "Print 'topic partition offset' per record");
  cmd->add_option("-o,--output-format", flags->output_format,
                  "Per-record output format, e.g. '%p@%o\\n' (implies -v)");
  add_connection_flags(cmd, flags->connection);
  cmd->callback([flags]() {
    std::ios::sync_with_stdio(false);
    run_command([&]() { return run_produce(*flags); });
  });
}

}  // namespace cairn::cli
