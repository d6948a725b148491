# One loaded wallet as a front end uses it (c1pzo's own interface, after
# Core's interfaces::Wallet). Every action can fail with Core's message,
# so its result is an outcome: ok, or the error text.
@0xe2f89051a206c23c;

using Proxy = import "proxy.capnp";
using Chain = import "chain.capnp";

struct WalletBalances {
    trusted @0 :Int64;
    untrustedPending @1 :Int64;
    immature @2 :Int64;
}

struct BalancesOutcome {
    ok @0 :Bool;
    error @1 :Text;
    value @2 :WalletBalances;
}

struct TextOutcome {
    ok @0 :Bool;
    error @1 :Text;
    value @2 :Text;
}

struct DataOutcome {
    ok @0 :Bool;
    error @1 :Text;
    value @2 :Data;
}

interface Wallet $Proxy.wrap("interfaces::Wallet") {
    destroy @0 (context :Proxy.Context) -> ();
    getWalletName @1 (context :Proxy.Context) -> (result :Text);
    getBalances @2 (context :Proxy.Context) -> (result :BalancesOutcome);
    getNewAddress @3 (context :Proxy.Context, label :Text, addressType :Text) -> (result :TextOutcome);
    # amount in satoshis; the result's value is the txid, consensus-serialized.
    sendToAddress @4 (context :Proxy.Context, address :Text, amount :Int64) -> (result :DataOutcome);
    isCrypted @5 (context :Proxy.Context) -> (result :Bool);
    isLocked @6 (context :Proxy.Context) -> (result :Bool);
    lock @7 (context :Proxy.Context) -> (result :Chain.Outcome);
    unlock @8 (context :Proxy.Context, passphrase :Text, timeoutSecs :Int64) -> (result :Chain.Outcome);
}
