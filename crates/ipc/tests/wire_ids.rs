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
    // Defaults are part of the encoding (fields are stored XORed with
    // them): values set through our schema must read back the same through
    // Core's, and an empty struct must read as the same defaults in both.
    let mut message = capnp::message::Builder::new_default();
    {
        let mut options = message.init_root::<ipc::mining_capnp::block_create_options::Builder>();
        options.set_use_mempool(false);
        options.set_block_reserved_weight(4000);
    }
    let words = capnp::serialize::write_message_to_words(&message);
    let theirs = core::capnp::serialize::read_message_from_flat_slice(
        &mut &words[..],
        core::capnp::message::ReaderOptions::new(),
    )
    .unwrap();
    let options = theirs
        .get_root::<core::mining_capnp::block_create_options::Reader>()
        .unwrap();
    assert!(!options.get_use_mempool());
    assert_eq!(options.get_block_reserved_weight(), 4000);
    assert_eq!(options.get_coinbase_output_max_additional_sigops(), 400);

    let mut empty = capnp::message::Builder::new_default();
    empty.init_root::<ipc::mining_capnp::block_wait_options::Builder>();
    empty.init_root::<ipc::mining_capnp::block_check_options::Builder>();
    let ours = empty
        .get_root_as_reader::<ipc::mining_capnp::block_check_options::Reader>()
        .unwrap();
    assert!(ours.get_check_merkle_root() && ours.get_check_pow());
    let mut wait = capnp::message::Builder::new_default();
    let ours = wait
        .init_root::<ipc::mining_capnp::block_wait_options::Builder>()
        .into_reader();
    assert_eq!(ours.get_fee_threshold(), core::mining_capnp::MAX_MONEY);
    assert_eq!(ours.get_timeout(), core::mining_capnp::MAX_DOUBLE);
    assert_eq!(
        ipc::mining_capnp::DEFAULT_COINBASE_OUTPUT_MAX_ADDITIONAL_SIGOPS,
        core::mining_capnp::DEFAULT_COINBASE_OUTPUT_MAX_ADDITIONAL_SIGOPS
    );
}
