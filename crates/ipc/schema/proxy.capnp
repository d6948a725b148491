# libmultiprocess's protocol vocabulary, which every Bitcoin Core IPC schema
# imports. The file ID, names, ordinals and types are what peers rely on;
# the annotations are declared so schemas written for mpgen also compile
# here (they do not change the wire format).
@0xcc316e3f71a040fb;

annotation include(file): Text;
annotation includeTypes(file): Text;
annotation wrap(interface, struct): Text;
annotation count(param, struct, interface): Int32;
annotation exception(param): Text;
annotation name(field, method): Text;
annotation skip(field): Void;

# Lets a client create named server threads, and a pool for requests that
# name none. Exchanged both ways by Init.construct.
interface ThreadMap $count(0) {
    makeThread @0 (name :Text) -> (result :Thread);
    makePool @1 (count :UInt32) -> ();
}

# One server thread; calls that carry it run on it, in order.
interface Thread {
    getName @0 () -> (result :Text);
}

# Passed with every call that may block: where to run it (thread), and where
# callbacks made during it should run (callbackThread).
struct Context $count(0) {
    thread @0 :Thread;
    callbackThread @1 :Thread;
}
