#include "http/server.h"

#include <atomic>
#include <exception>
#include <future>

#include <restinio/all.hpp>

#include "base/assert.h"

namespace cairn::http {
namespace {

// default_traits_t: strands, so the pool may have several threads. The connection limiter
// keeps a flood of clients to connections_max open at once.
struct Traits : restinio::default_traits_t {
  static constexpr bool use_connection_count_limiter = true;
};
using HttpServer = restinio::http_server_t<Traits>;
using Runner = restinio::on_pool_runner_t<HttpServer>;

restinio::request_handling_status_t answer(const Router& router, restinio::request_handle_t req) {
  Request request;
  request.method = req->header().method().c_str();
  request.path = std::string(req->header().path());
  request.query = std::string(req->header().query());
  request.body = req->body();
  request.content_type = req->header().get_field_or(restinio::http_field::content_type, "");
  Response response = router.dispatch(request);
  ASSERT(response.status >= 100 && response.status <= 599);
  auto builder = req->create_response(restinio::http_status_line_t{
      restinio::http_status_code_t{static_cast<std::uint16_t>(response.status)},
      std::string(reason_phrase(response.status))});
  builder.append_header(restinio::http_field::content_type, response.content_type);
  builder.append_header("Cache-Control", "no-store");
  for (auto& [name, value] : response.headers) builder.append_header(name, value);
  builder.set_body(std::move(response.body));
  return builder.done();
}

}  // namespace

struct Server::Impl {
  ServerOptions options;
  std::shared_ptr<const Router> router;
  std::atomic<uint16_t> port{0};
  std::unique_ptr<HttpServer> server;
  std::unique_ptr<Runner> runner;
  bool running = false;
};

Result<std::unique_ptr<Server>> Server::start(ServerOptions options,
                                              std::shared_ptr<const Router> router) {
  ASSERT(router != nullptr);
  ASSERT(options.thread_count >= 1 && options.thread_count <= 16);
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->router = std::move(router);
  Impl* state = impl.get();
  restinio::server_settings_t<Traits> settings;
  std::error_code address_error;
  asio::ip::address address = asio::ip::make_address(options.host, address_error);
  if (address_error) {
    return error(StatusCode::invalid_argument, "admin address '" + options.host + "' is not an IP");
  }
  settings.address(address)
      .port(options.port)
      .protocol(address.is_v6() ? asio::ip::tcp::v6() : asio::ip::tcp::v4())
      .max_parallel_connections(options.connections_max)
      .incoming_http_msg_limits(restinio::incoming_http_msg_limits_t{}
                                    .max_url_size(options.url_bytes_max)
                                    .max_field_count(options.headers_max)
                                    .max_field_name_size(1024)
                                    .max_field_value_size(8192)
                                    .max_body_size(options.body_bytes_max))
      .read_next_http_message_timelimit(std::chrono::seconds(60))
      .handle_request_timeout(std::chrono::seconds(30))
      .acceptor_post_bind_hook([state](asio::ip::tcp::acceptor& acceptor) {
        state->port.store(acceptor.local_endpoint().port());
      })
      .request_handler([state](restinio::request_handle_t req) {
        return answer(*state->router, std::move(req));
      });
  impl->server = std::make_unique<HttpServer>(restinio::own_io_context(), std::move(settings));
  impl->runner = std::make_unique<Runner>(options.thread_count, *impl->server);
  std::promise<void> started;
  std::future<void> result = started.get_future();
  impl->runner->start([&started]() noexcept { started.set_value(); },
                      [&started](std::exception_ptr e) noexcept { started.set_exception(e); });
  try {
    result.get();
  } catch (const std::exception& e) {
    // RESTinio's error path stops the pool only if the pool had finished starting when the
    // open failed (it runs on a pool thread, racing with start()): stop it here too.
    impl->server->io_context().stop();
    impl->runner->wait();
    return error(StatusCode::io_error, "admin listen " + options.host + ":" +
                                           std::to_string(options.port) + ": " + e.what());
  }
  impl->running = true;
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { stop(); }

uint16_t Server::port() const { return impl_->port.load(); }

const std::string& Server::host() const { return impl_->options.host; }

void Server::stop() {
  if (!impl_->running) return;
  impl_->running = false;
  impl_->runner->stop();
  impl_->runner->wait();
}

}  // namespace cairn::http
