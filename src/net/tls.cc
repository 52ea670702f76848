#include "net/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <memory>

#include "base/assert.h"

namespace cairn::net {
namespace {

// The reason of the oldest queued OpenSSL error ("no such file", "key values mismatch"),
// clearing the queue so the next operation starts clean.
std::string openssl_reason() {
  unsigned long code = ERR_get_error();
  std::string reason = "unknown OpenSSL error";
  if (code != 0) {
    const char* text = ERR_reason_error_string(code);
    reason = text != nullptr ? text : "OpenSSL error " + std::to_string(code);
  }
  ERR_clear_error();
  return reason;
}

Status failed(const std::string& what, const std::string& path) {
  return error(StatusCode::invalid_argument, what + " " + path + ": " + openssl_reason());
}

Status load_identity(SSL_CTX* ctx, const TlsSettings& settings) {
  const std::string& chain = settings.certificate_chain_path;
  if (chain.empty()) return error(StatusCode::invalid_argument, "no certificate file set");
  if (SSL_CTX_use_certificate_chain_file(ctx, chain.c_str()) != 1) {
    return failed("cannot load the certificate chain", chain);
  }
  const std::string& key = settings.private_key_path.empty() ? chain : settings.private_key_path;
  if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1) {
    return failed("cannot load the private key", key);
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return failed("the private key does not match the certificate of", chain);
  }
  return Status::ok_status();
}

// The revocation lists of `settings.crl_path` (PEM, one or more), checked for each client
// certificate (its issuer's list; X509_V_FLAG_CRL_CHECK).
Status load_revocation_lists(SSL_CTX* ctx, const std::string& path) {
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  X509_LOOKUP* lookup = X509_STORE_add_lookup(store, X509_LOOKUP_file());
  if (lookup == nullptr) return failed("cannot read the revocation lists", path);
  if (X509_load_crl_file(lookup, path.c_str(), X509_FILETYPE_PEM) <= 0) {
    return failed("no certificate revocation list in", path);
  }
  X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
  return Status::ok_status();
}

Status load_client_verification(SSL_CTX* ctx, const TlsSettings& settings) {
  if (settings.client_auth == ClientAuth::none) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    return Status::ok_status();
  }
  const std::string& ca = settings.ca_path;
  if (ca.empty()) {
    return error(StatusCode::invalid_argument,
                 "client certificates are asked for but no CA file (truststore) is set");
  }
  if (SSL_CTX_load_verify_locations(ctx, ca.c_str(), nullptr) != 1) {
    return failed("cannot load the CA certificates", ca);
  }
  // Tell clients which CAs we accept, so one holding several certificates picks the right one.
  STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(ca.c_str());
  if (names == nullptr) return failed("no CA certificate in", ca);
  SSL_CTX_set_client_CA_list(ctx, names);  // takes ownership
  if (!settings.crl_path.empty()) RETURN_IF_ERROR(load_revocation_lists(ctx, settings.crl_path));
  int mode = SSL_VERIFY_PEER;
  if (settings.client_auth == ClientAuth::required) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  SSL_CTX_set_verify(ctx, mode, nullptr);
  return Status::ok_status();
}

}  // namespace

Result<std::shared_ptr<asio::ssl::context>> make_tls_context(const TlsSettings& settings) {
  if (!settings.tls12_enabled && !settings.tls13_enabled) {
    return error(StatusCode::invalid_argument, "neither TLSv1.2 nor TLSv1.3 is enabled");
  }
  ERR_clear_error();
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  SSL_CTX* ctx = context->native_handle();
  ASSERT(ctx != nullptr);
  SSL_CTX_set_min_proto_version(ctx, settings.tls12_enabled ? TLS1_2_VERSION : TLS1_3_VERSION);
  SSL_CTX_set_max_proto_version(ctx, settings.tls13_enabled ? TLS1_3_VERSION : TLS1_2_VERSION);
  // Renegotiation lets a client make the server redo expensive work at will; no Kafka client
  // needs it.
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // Session resumption with client certificates needs a session id context.
  static constexpr unsigned char kSessionContext[] = "cairn";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof(kSessionContext) - 1);
  RETURN_IF_ERROR(load_identity(ctx, settings));
  RETURN_IF_ERROR(load_client_verification(ctx, settings));
  return context;
}

Result<std::shared_ptr<TlsContextSource>> TlsContextSource::create(TlsSettings settings) {
  Result<std::shared_ptr<asio::ssl::context>> context = make_tls_context(settings);
  if (!context.ok()) return context.status();
  return std::shared_ptr<TlsContextSource>(
      new TlsContextSource(std::move(settings), std::move(context).value()));
}

std::string TlsContextSource::files_stamp() const {
  std::string stamp;
  for (const std::string* path : {&settings_.certificate_chain_path, &settings_.private_key_path,
                                  &settings_.ca_path, &settings_.crl_path}) {
    struct stat status {};
    if (path->empty() || ::stat(path->c_str(), &status) != 0) {
      stamp += "-;";
      continue;
    }
    stamp += std::to_string(status.st_mtim.tv_sec) + "." + std::to_string(status.st_mtim.tv_nsec) +
             "/" + std::to_string(status.st_size) + ";";
  }
  return stamp;
}

Result<bool> TlsContextSource::reload_if_changed() {
  if (files_stamp() == stamp_) return false;
  RETURN_IF_ERROR(reload());
  return true;
}

Status TlsContextSource::reload() {
  stamp_ = files_stamp();
  Result<std::shared_ptr<asio::ssl::context>> context = make_tls_context(settings_);
  if (!context.ok()) return context.status();
  current_.store(std::move(context).value());
  return Status::ok_status();
}

PeerIdentity peer_identity(SSL* ssl) {
  ASSERT(ssl != nullptr);
  PeerIdentity identity;
  identity.tls = true;
  identity.tls_version = SSL_get_version(ssl);
  X509* certificate = SSL_get0_peer_certificate(ssl);
  // The verify mode aborts a handshake whose client certificate does not verify; check the
  // result anyway rather than trust a subject nobody verified.
  if (certificate == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return identity;
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  if (bio == nullptr) return identity;
  // RFC 2253, most specific first, as Java's X500Principal.getName() writes it; UTF-8 kept
  // as is rather than escaped.
  unsigned long flags = XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB;
  if (X509_NAME_print_ex(bio.get(), X509_get_subject_name(certificate), 0, flags) < 0) {
    return identity;
  }
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  identity.certificate_subject = std::string(data, static_cast<size_t>(size > 0 ? size : 0));
  return identity;
}

std::string handshake_failure(SSL* ssl, const asio::error_code& ec) {
  ASSERT(ssl != nullptr);
  std::string reason = ec.message();
  long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK) {
    reason += std::string(": client certificate: ") + X509_verify_cert_error_string(verify);
  }
  return reason;
}

}  // namespace cairn::net
