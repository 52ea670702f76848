// SaslHandshake (key 17) and SaslAuthenticate (key 36) where no SASL login runs: on PLAINTEXT
// and SSL listeners. SASL listeners answer both in the session itself (kafka_session_sasl.cc),
// so these rows only see clients that ask for SASL where the listener does not offer it; Kafka
// answers ILLEGAL_SASL_STATE there, and so does Cairn.
#include "broker/error_code.h"
#include "broker/handlers/handlers.h"
#include "protocol/generated/sasl_authenticate.h"
#include "protocol/generated/sasl_handshake.h"

namespace cairn::broker {

asio::awaitable<net::Reply> handle_sasl_handshake(RequestContext ctx) {
  protocol::SaslHandshakeRequest request;
  if (!ctx.decode(request)) co_return net::Reply::close();
  protocol::SaslHandshakeResponse response;
  response.error_code = wire(ErrorCode::illegal_sasl_state);
  co_return respond(ctx, response);
}

asio::awaitable<net::Reply> handle_sasl_authenticate(RequestContext ctx) {
  protocol::SaslAuthenticateRequest request;
  if (!ctx.decode(request)) co_return net::Reply::close();
  protocol::SaslAuthenticateResponse response;
  response.error_code = wire(ErrorCode::illegal_sasl_state);
  response.error_message = "listener " + ctx.identity->listener + " does not use SASL";
  co_return respond(ctx, response);
}

}  // namespace cairn::broker
