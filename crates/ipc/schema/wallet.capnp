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

# One entry of the history; category: 0 send, 1 receive, 2 generate,
# 3 immature, 4 orphan. Amounts in satoshis, txid consensus-serialized.
struct TxRecord {
    txid @0 :Data;
    vout @1 :UInt32;
    category @2 :UInt8;
    address @3 :Text;
    hasAddress @4 :Bool;
    label @5 :Text;
    hasLabel @6 :Bool;
    amount @7 :Int64;
    fee @8 :Int64;
    hasFee @9 :Bool;
    confirmations @10 :Int64;
    time @11 :Int64;
    abandoned @12 :Bool;
    trusted @13 :Bool;
}

struct TxRecordsOutcome {
    ok @0 :Bool;
    error @1 :Text;
    value @2 :List(TxRecord);
}

struct WalletTxDetails {
    tx @0 :Data;
    confirmations @1 :Int64;
    blockHash @2 :Data;
    hasBlockHash @3 :Bool;
    time @4 :Int64;
    amount @5 :Int64;
    fee @6 :Int64;
    hasFee @7 :Bool;
    abandoned @8 :Bool;
}

struct TxDetailsOutcome {
    ok @0 :Bool;
    error @1 :Text;
    value @2 :WalletTxDetails;
}

struct Recipient {
    address @0 :Text;
    amount @1 :Int64;
    subtractFee @2 :Bool;
}

struct CreatedTransaction {
    tx @0 :Data;
    fee @1 :Int64;
}

struct CreatedOutcome {
    ok @0 :Bool;
    error @1 :Text;
    value @2 :CreatedTransaction;
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
    waitChanged @9 (context :Proxy.Context, seen :UInt64, timeoutMs :Int64) -> (result :UInt64);
    getTransactions @10 (context :Proxy.Context) -> (result :TxRecordsOutcome);
    getTransaction @11 (context :Proxy.Context, txid :Data) -> (result :TxDetailsOutcome);
    abandonTransaction @12 (context :Proxy.Context, txid :Data) -> (result :Chain.Outcome);
    # feeRate in sat/kwu, when hasFeeRate.
    createTransaction @13 (context :Proxy.Context, recipients :List(Recipient), feeRate :Int64, hasFeeRate :Bool) -> (result :CreatedOutcome);
    commitTransaction @14 (context :Proxy.Context, tx :Data) -> (result :DataOutcome);
    encryptWallet @15 (context :Proxy.Context, passphrase :Text) -> (result :Chain.Outcome);
    changePassphrase @16 (context :Proxy.Context, oldPassphrase :Text, newPassphrase :Text) -> (result :Chain.Outcome);
    backupWallet @17 (context :Proxy.Context, destination :Text) -> (result :Chain.Outcome);
}
