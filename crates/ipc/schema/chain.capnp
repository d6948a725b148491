# The node as a wallet sees it, and what the node tells the wallet
# (c1pzo's own interfaces, mirroring crates/interfaces). Conventions as
# Bitcoin Core's schemas: consensus-serialized bytes in Data, JSON as Text,
# optional results as result + hasResult, and a Context on every method.
@0x9860c9213c578f02;

using Proxy = import "proxy.capnp";
using Handler = import "handler.capnp";

struct BlockRef {
    hash @0 :Data;
    height @1 :UInt32;
}

struct FoundBlock {
    hash @0 :Data;
    prevHash @1 :Data;
    height @2 :UInt32;
    time @3 :UInt32;
    medianTimePast @4 :UInt32;
    inActiveChain @5 :Bool;
    data @6 :Data;
    hasData @7 :Bool;
}

struct Coin {
    output @0 :Data;
    height @1 :UInt32;
    isCoinbase @2 :Bool;
}

struct OptionalCoin {
    result @0 :Coin;
    hasResult @1 :Bool;
}

# Success, or the error's message.
struct Outcome {
    ok @0 :Bool;
    error @1 :Text;
}

struct BlockInfo {
    hash @0 :Data;
    prevHash @1 :Data;
    height @2 :UInt32;
    data @3 :Data;
}

struct RpcRequest {
    method @0 :Text;
    params @1 :Text;
    hasParams @2 :Bool;
    uri @3 :Text;
    # The node delivered every queued notification before passing it on.
    synced @4 :Bool;
}

struct RpcReply {
    result @0 :Text;
    errorCode @1 :Int32;
    errorMessage @2 :Text;
    isError @3 :Bool;
}

interface RpcActor $Proxy.wrap("interfaces::RpcActor") {
    destroy @0 (context :Proxy.Context) -> ();
    call @1 (context :Proxy.Context, request :RpcRequest) -> (result :RpcReply);
}

struct RpcCommand {
    category @0 :Text;
    name @1 :Text;
    usage @2 :Text;
    help @3 :Text;
    actor @4 :RpcActor;
}

interface Chain $Proxy.wrap("interfaces::Chain") {
    destroy @0 (context :Proxy.Context) -> ();
    tip @1 (context :Proxy.Context) -> (result :BlockRef);
    blockHash @2 (context :Proxy.Context, height :UInt32) -> (result :Data, hasResult :Bool);
    findBlock @3 (context :Proxy.Context, hash :Data, withData :Bool) -> (result :FoundBlock, hasResult :Bool);
    findAncestorByHeight @4 (context :Proxy.Context, hash :Data, height :UInt32) -> (result :Data, hasResult :Bool);
    findCommonAncestor @5 (context :Proxy.Context, a :Data, b :Data) -> (result :BlockRef, hasResult :Bool);
    findCoins @6 (context :Proxy.Context, outpoints :List(Data)) -> (result :List(OptionalCoin));
    broadcastTransaction @7 (context :Proxy.Context, tx :Data, maxTxFee :Int64, relay :Bool) -> (result :Outcome);
    estimateSmartFee @8 (context :Proxy.Context, target :UInt32) -> (result :Int64, hasResult :Bool);
    relayMinFee @9 (context :Proxy.Context) -> (result :Int64);
    relayDustFee @10 (context :Proxy.Context) -> (result :Int64);
    isInMempool @11 (context :Proxy.Context, txid :Data) -> (result :Bool);
    hasDescendantsInMempool @12 (context :Proxy.Context, txid :Data) -> (result :Bool);
    mempoolTransactions @13 (context :Proxy.Context) -> (result :List(Data));
    handleNotifications @14 (context :Proxy.Context, notifications :ChainNotifications) -> (result :Handler.Handler);
    waitForNotifications @15 (context :Proxy.Context) -> ();
    waitForNotificationsIfTipChanged @16 (context :Proxy.Context, oldTip :Data) -> ();
    handleRpc @17 (context :Proxy.Context, command :RpcCommand) -> (result :Handler.Handler);
    isReadyToBroadcast @18 (context :Proxy.Context) -> (result :Bool);
    isInitialBlockDownload @19 (context :Proxy.Context) -> (result :Bool);
    shutdownRequested @20 (context :Proxy.Context) -> (result :Bool);
    now @21 (context :Proxy.Context) -> (result :Int64);
    setting @22 (context :Proxy.Context, name :Text) -> (result :Text, hasResult :Bool);
    updateSetting @23 (context :Proxy.Context, name :Text, value :Text, hasValue :Bool) -> (result :Outcome);
    initMessage @24 (context :Proxy.Context, message :Text) -> ();
    initWarning @25 (context :Proxy.Context, message :Text) -> ();
    getArgs @26 (context :Proxy.Context, name :Text) -> (result :List(Text));
}

interface ChainNotifications $Proxy.wrap("interfaces::ChainNotifications") {
    destroy @0 (context :Proxy.Context) -> ();
    transactionAddedToMempool @1 (context :Proxy.Context, tx :Data) -> ();
    transactionRemovedFromMempool @2 (context :Proxy.Context, tx :Data, reason :UInt8) -> ();
    blockConnected @3 (context :Proxy.Context, block :BlockInfo) -> ();
    blockDisconnected @4 (context :Proxy.Context, block :BlockInfo) -> ();
    updatedBlockTip @5 (context :Proxy.Context) -> ();
    chainStateFlushed @6 (context :Proxy.Context, tip :Data) -> ();
}
