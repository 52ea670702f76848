// TLS for listeners: the server-side OpenSSL context a TLS listener gives each new connection,
// reloadable while the broker runs, and reading the peer off a finished handshake.
//
// A TLS connection wraps its socket in an asio::ssl::stream made from the context current
// when it was accepted and keeps that context (a shared_ptr) until it closes, so a reload
// (new certificate files, SIGHUP) changes only what later connections get.
//
// Thread safety: TlsContextSource::current() from any thread (an atomic shared_ptr load);
// reload() and reload_if_changed() from one controlling thread at a time (main: on SIGHUP, and
// every few seconds to notice changed files). The functions on an SSL
// handle run on the connection's shard.
#pragma once

#include <asio.hpp>
#include <asio/ssl.hpp>
#include <atomic>
#include <memory>
#include <string>

#include "base/status.h"
#include "net/tls_settings.h"

namespace cairn::net {

// A server context for `settings`: the files read and checked (the key matches the
// certificate), TLS 1.2 and/or 1.3 only, no renegotiation. Errors: invalid_argument naming the
// file and OpenSSL's reason.
Result<std::shared_ptr<asio::ssl::context>> make_tls_context(const TlsSettings& settings);

// The context new connections of a TLS listener start from; one per set of TlsSettings.
class TlsContextSource {
 public:
  static Result<std::shared_ptr<TlsContextSource>> create(TlsSettings settings);

  std::shared_ptr<asio::ssl::context> current() const { return current_.load(); }
  // Reads the files again. On error the current context stays and the error is returned.
  Status reload();
  // reload() if a file's modification time or size differs from when the files were last read
  // (by create, reload or an earlier call, whether or not that succeeded: a broken file is
  // reported once, and again only once it changes). False: nothing changed.
  Result<bool> reload_if_changed();
  const TlsSettings& settings() const { return settings_; }

 private:
  TlsContextSource(TlsSettings settings, std::shared_ptr<asio::ssl::context> context)
      : settings_(std::move(settings)), current_(std::move(context)), stamp_(files_stamp()) {}

  // The modification time and size of each file in settings_, as one comparable string.
  std::string files_stamp() const;

  TlsSettings settings_;
  std::atomic<std::shared_ptr<asio::ssl::context>> current_;
  std::string stamp_;  // files_stamp() when the files were last read
};

// REQUIRES: `ssl` finished its handshake as a server.
PeerIdentity peer_identity(SSL* ssl);

// Why a server handshake on `ssl` failed with `ec`, for the log: OpenSSL's reason and, when a
// client certificate did not verify, why ("certificate has expired").
std::string handshake_failure(SSL* ssl, const asio::error_code& ec);

}  // namespace cairn::net
