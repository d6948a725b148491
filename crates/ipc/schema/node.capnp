# The node as a front end (the GUI) sees it (c1pzo's own interface, after
# Core's interfaces::Node): the tip, the RPC console, shutdown, peers and
# bans, network activity, and the wallets, which may live in another
# process.
@0xd75605bc715871e5;

using Proxy = import "proxy.capnp";
using Chain = import "chain.capnp";
using Wallet = import "wallet.capnp";

struct BlockTip {
    hash @0 :Data;
    height @1 :UInt32;
    time @2 :Int64;
}

struct PeerInfo {
    id @0 :Int64;
    address @1 :Text;
    inbound @2 :Bool;
    connectionType @3 :Text;
    userAgent @4 :Text;
    version @5 :Int64;
    services @6 :UInt64;
    syncedBlocks @7 :Int64;
    bytesSent @8 :UInt64;
    bytesReceived @9 :UInt64;
    pingMicros @10 :UInt64;
    hasPingMicros @11 :Bool;
    connectedSince @12 :Int64;
}

struct BannedSubnet {
    subnet @0 :Text;
    created @1 :Int64;
    until @2 :Int64;
}

struct CreateWalletOptions {
    name @0 :Text;
    passphrase @1 :Text;
    disablePrivateKeys @2 :Bool;
    blank @3 :Bool;
}

struct TextListOutcome {
    ok @0 :Bool;
    error @1 :Text;
    value @2 :List(Text);
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
    getChainName @10 (context :Proxy.Context) -> (result :Text);
    getConnectionCount @11 (context :Proxy.Context) -> (result :UInt64);
    getPeers @12 (context :Proxy.Context) -> (result :List(PeerInfo));
    disconnectPeer @13 (context :Proxy.Context, id :Int64) -> (result :Bool);
    ban @14 (context :Proxy.Context, subnet :Text, seconds :Int64) -> (result :Chain.Outcome);
    unban @15 (context :Proxy.Context, subnet :Text) -> (result :Chain.Outcome);
    getBanned @16 (context :Proxy.Context) -> (result :List(BannedSubnet));
    getNetworkActive @17 (context :Proxy.Context) -> (result :Bool);
    setNetworkActive @18 (context :Proxy.Context, active :Bool) -> ();
    listWalletDir @19 (context :Proxy.Context) -> (result :TextListOutcome);
    createWallet @20 (context :Proxy.Context, options :CreateWalletOptions) -> (result :Wallet.TextOutcome);
    loadWallet @21 (context :Proxy.Context, name :Text) -> (result :Wallet.TextOutcome);
    unloadWallet @22 (context :Proxy.Context, name :Text) -> (result :Chain.Outcome);
}
