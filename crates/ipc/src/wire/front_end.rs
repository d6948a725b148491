//! The front end's values (peers, bans, wallet history, payments), each
//! travelling as the schema's struct of the same name, field by field
//! under the same (camelCase) names, alone or in a list.

use bitcoin::SignedAmount;
use capnp::dynamic_list;
use capnp::dynamic_value;
use interfaces::{
    BannedSubnet, CreateWalletOptions, CreatedTransaction, PeerInfo, Recipient, TxCategory,
    TxRecord, WalletTxDetails,
};

use super::{bad, struct_builder, struct_reader, Builder, ListItem, Reader, Wire};

/// Signed amounts in satoshis.
impl Wire for SignedAmount {
    fn put(&self, builder: &mut Builder<'_>, field: &str) -> capnp::Result<()> {
        self.to_sat().put(builder, field)
    }
    fn take(reader: &Reader<'_>, field: &str) -> capnp::Result<Self> {
        Ok(SignedAmount::from_sat(i64::take(reader, field)?))
    }
}

impl Wire for TxCategory {
    fn put(&self, builder: &mut Builder<'_>, field: &str) -> capnp::Result<()> {
        let code: u8 = match self {
            TxCategory::Send => 0,
            TxCategory::Receive => 1,
            TxCategory::Generate => 2,
            TxCategory::Immature => 3,
            TxCategory::Orphan => 4,
        };
        code.put(builder, field)
    }
    fn take(reader: &Reader<'_>, field: &str) -> capnp::Result<Self> {
        Ok(match u8::take(reader, field)? {
            0 => TxCategory::Send,
            1 => TxCategory::Receive,
            2 => TxCategory::Generate,
            3 => TxCategory::Immature,
            4 => TxCategory::Orphan,
            _ => return Err(bad("transaction category")),
        })
    }
}

/// A struct whose Rust fields are the schema struct's fields.
trait Fields: Sized {
    fn fill(&self, inner: &mut Builder<'_>) -> capnp::Result<()>;
    fn read(inner: &Reader<'_>) -> capnp::Result<Self>;
}

macro_rules! fields {
    ($t:ident { $($field:ident),* $(,)? }) => {
        impl Fields for $t {
            fn fill(&self, inner: &mut Builder<'_>) -> capnp::Result<()> {
                $(self.$field.put(inner, crate::ipc_field_name!($field))?;)*
                Ok(())
            }
            fn read(inner: &Reader<'_>) -> capnp::Result<Self> {
                Ok($t { $($field: Wire::take(inner, crate::ipc_field_name!($field))?,)* })
            }
        }

        impl Wire for $t {
            fn put(&self, builder: &mut Builder<'_>, field: &str) -> capnp::Result<()> {
                self.fill(&mut struct_builder(builder, field)?)
            }
            fn take(reader: &Reader<'_>, field: &str) -> capnp::Result<Self> {
                Self::read(&struct_reader(reader, field)?)
            }
        }

        impl ListItem for $t {
            fn set(list: &mut dynamic_list::Builder<'_>, index: u32, value: &Self) -> capnp::Result<()> {
                value.fill(&mut list.reborrow().get(index)?.downcast::<Builder>())
            }
            fn get(value: dynamic_value::Reader<'_>) -> capnp::Result<Self> {
                Self::read(&value.downcast::<Reader>())
            }
        }
    };
}

fields!(PeerInfo {
    id,
    address,
    inbound,
    connection_type,
    user_agent,
    version,
    services,
    synced_blocks,
    bytes_sent,
    bytes_received,
    ping_micros,
    connected_since,
});
fields!(BannedSubnet {
    subnet,
    created,
    until
});
fields!(CreateWalletOptions {
    name,
    passphrase,
    disable_private_keys,
    blank
});
fields!(TxRecord {
    txid,
    vout,
    category,
    address,
    label,
    amount,
    fee,
    confirmations,
    time,
    abandoned,
    trusted,
});
fields!(WalletTxDetails {
    tx,
    confirmations,
    block_hash,
    time,
    amount,
    fee,
    abandoned
});
fields!(Recipient {
    address,
    amount,
    subtract_fee
});
fields!(CreatedTransaction { tx, fee });
