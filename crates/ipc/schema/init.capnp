# The bootstrap interface of every c1pzo process: what a connecting or
# spawning peer asks for first. Ordinals @0-@4 are Bitcoin Core's and never
# change; c1pzo's own interfaces follow from @5 on.
@0xf2c5cfa319406aa6;

using Proxy = import "proxy.capnp";
using Echo = import "echo.capnp";
using Mining = import "mining.capnp";
using Rpc = import "rpc.capnp";
using Chain = import "chain.capnp";
using WalletLoader = import "wallet_loader.capnp";
using Node = import "node.capnp";

interface Init $Proxy.wrap("interfaces::Init") {
    # Exchanges thread maps, so each side can create threads on the other.
    construct @0 (threadMap :Proxy.ThreadMap) -> (threadMap :Proxy.ThreadMap);
    makeEcho @1 (context :Proxy.Context) -> (result :Echo.Echo);
    # Retired ordinal: answers with an error telling the client to update.
    makeMiningOld2 @2 () -> ();
    makeMining @3 (context :Proxy.Context) -> (result :Mining.Mining);
    makeRpc @4 (context :Proxy.Context) -> (result :Rpc.Rpc);
    # c1pzo's: the node's Chain (served by processes that run a node).
    makeChain @5 (context :Proxy.Context) -> (result :Chain.Chain);
    # c1pzo's: a wallet process's loader, given the node's Chain.
    makeWalletLoader @6 (context :Proxy.Context, chain :Chain.Chain) -> (result :WalletLoader.WalletLoader);
    # c1pzo's: the node as a front end (the GUI) sees it.
    makeNode @7 (context :Proxy.Context) -> (result :Node.Node);
}
