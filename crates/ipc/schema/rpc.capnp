# JSON-RPC over IPC: the request and result are JSON text, as the HTTP
# server would see them.
@0x9c3505dc45e146ac;

using Proxy = import "proxy.capnp";

interface Rpc $Proxy.wrap("interfaces::Rpc") {
    executeRpc @0 (context :Proxy.Context, request :Text, uri :Text, user :Text) -> (result :Text);
}
