# The node as a front end (the GUI) sees it (c1pzo's own interface, after
# Core's interfaces::Node): the tip, the RPC console, shutdown, and the
# loaded wallets, which may live in another process.
@0xd75605bc715871e5;

using Proxy = import "proxy.capnp";
using Chain = import "chain.capnp";
using Wallet = import "wallet.capnp";

struct BlockTip {
    hash @0 :Data;
    height @1 :UInt32;
    time @2 :Int64;
}

interface Node $Proxy.wrap("interfaces::Node") {
    destroy @0 (context :Proxy.Context) -> ();
    getTip @1 (context :Proxy.Context) -> (result :BlockTip);
    waitTipChanged @2 (context :Proxy.Context, current :Data, timeoutMs :Int64) -> (result :BlockTip);
    isInitialBlockDownload @3 (context :Proxy.Context) -> (result :Bool);
    getMempoolSize @4 (context :Proxy.Context) -> (result :UInt64);
    # params is JSON text (present when hasParams); the reply as RpcActor's.
    executeRpc @5 (context :Proxy.Context, method :Text, params :Text, hasParams :Bool, uri :Text) -> (result :Chain.RpcReply);
    listRpcCommands @6 (context :Proxy.Context) -> (result :List(Text));
    startShutdown @7 (context :Proxy.Context) -> ();
    shutdownRequested @8 (context :Proxy.Context) -> (result :Bool);
    getWallets @9 (context :Proxy.Context) -> (result :List(Wallet.Wallet));
}
