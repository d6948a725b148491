//! Wire compatibility with Bitcoin Core's schemas, checked against a third
//! party's build of them (the `bitcoin-capnp-types` crate): interfaces are
//! addressed on the wire by their type id, which derives from the file id
//! and the name, and fields by ordinal and default.

use bitcoin_capnp_types as core;

macro_rules! same_id {
    ($ours:ty, $theirs:ty) => {
        assert_eq!(
            <$ours as capnp::traits::HasTypeId>::TYPE_ID,
            <$theirs as core::capnp::traits::HasTypeId>::TYPE_ID,
            "{} differs from Bitcoin Core's",
            stringify!($ours)
        );
    };
}

#[test]
fn interfaces_have_bitcoin_cores_ids() {
    same_id!(
        ipc::init_capnp::init::Client,
        core::init_capnp::init::Client
    );
    same_id!(
        ipc::echo_capnp::echo::Client,
        core::echo_capnp::echo::Client
    );
    same_id!(
        ipc::mining_capnp::mining::Client,
        core::mining_capnp::mining::Client
    );
    same_id!(
        ipc::mining_capnp::block_template::Client,
        core::mining_capnp::block_template::Client
    );
    same_id!(ipc::rpc_capnp::rpc::Client, core::rpc_capnp::rpc::Client);
    same_id!(
        ipc::proxy_capnp::thread_map::Client,
        core::proxy_capnp::thread_map::Client
    );
    same_id!(
        ipc::proxy_capnp::thread::Client,
        core::proxy_capnp::thread::Client
    );
}

#[test]
fn structs_have_bitcoin_cores_ids() {
    same_id!(
        ipc::common_capnp::block_ref::Reader<'static>,
        core::common_capnp::block_ref::Reader<'static>
    );
    same_id!(
        ipc::proxy_capnp::context::Reader<'static>,
        core::proxy_capnp::context::Reader<'static>
    );
    same_id!(
        ipc::mining_capnp::block_create_options::Reader<'static>,
        core::mining_capnp::block_create_options::Reader<'static>
    );
    same_id!(
        ipc::mining_capnp::block_wait_options::Reader<'static>,
        core::mining_capnp::block_wait_options::Reader<'static>
    );
    same_id!(
        ipc::mining_capnp::coinbase_tx::Reader<'static>,
        core::mining_capnp::coinbase_tx::Reader<'static>
    );
}

#[test]
fn constants_and_defaults_match() {
    assert_eq!(ipc::mining_capnp::MAX_MONEY, core::mining_capnp::MAX_MONEY);
    assert_eq!(
        ipc::mining_capnp::MAX_DOUBLE,
        core::mining_capnp::MAX_DOUBLE
    );
    assert_eq!(
        ipc::mining_capnp::DEFAULT_BLOCK_RESERVED_WEIGHT,
        core::mining_capnp::DEFAULT_BLOCK_RESERVED_WEIGHT
    );
    // A default is part of the encoding: an empty options struct must read
    // the same through both schemas.
    let mut message = capnp::message::Builder::new_default();
    let _ = message.init_root::<ipc::mining_capnp::block_wait_options::Builder>();
    let words = capnp::serialize::write_message_to_words(&message);
    let theirs = core::capnp::serialize::read_message_from_flat_slice(
        &mut &words[..],
        core::capnp::message::ReaderOptions::new(),
    )
    .unwrap();
    let options = theirs
        .get_root::<core::mining_capnp::block_wait_options::Reader>()
        .unwrap();
    assert_eq!(options.get_fee_threshold(), 2_100_000_000_000_000);
    assert_eq!(options.get_timeout(), f64::MAX);
}
