# c1pzo's own test interface (in the spirit of Bitcoin Core's
# ipc_test.capnp): what the runtime tests and the benchmark need that Echo
# cannot show — blocking calls, callbacks from server to client, server
# errors, and object lifetimes. Never served by a product binary's Init.
@0xf55a064f08e334d1;

using Proxy = import "proxy.capnp";

interface TestInit {
    # Same shape as Init.construct: thread maps are exchanged first.
    construct @0 (threadMap :Proxy.ThreadMap) -> (threadMap :Proxy.ThreadMap);
    makeTester @1 (context :Proxy.Context) -> (result :Tester);
    # How many Tester objects this process still holds.
    liveTesters @2 () -> (result :UInt32);
}

interface Tester {
    destroy @0 (context :Proxy.Context) -> ();
    add @1 (context :Proxy.Context, a :Int64, b :Int64) -> (result :Int64);
    # Blocks the server thread for `millis`.
    sleep @2 (context :Proxy.Context, millis :UInt32) -> ();
    # Calls `callback.call(value)` from the server thread and returns what
    # it answered, plus one.
    callBack @3 (context :Proxy.Context, callback :TestCallback, value :Int64) -> (result :Int64);
    # Fails with `message`.
    fail @4 (context :Proxy.Context, message :Text) -> ();
    # The name of the server thread the call ran on.
    threadName @5 (context :Proxy.Context) -> (result :Text);
    # A plain capnp-rpc method, answered on the event loop: the
    # benchmark's baseline.
    plainEcho @6 (echo :Text) -> (result :Text);
}

interface TestCallback {
    call @0 (context :Proxy.Context, value :Int64) -> (result :Int64);
}
