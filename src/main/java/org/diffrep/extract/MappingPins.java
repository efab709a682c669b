package org.diffrep.extract;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.PointerConsumer;

/**
 * Keeps memory-mapped feature files alive while LibTorch tensors view them: each tensor made over a
 * mapping pins it (counted per address), and the tensor's deleter, run by LibTorch when its storage
 * is freed, unpins it. Only then may GC unmap the file.
 */
final class MappingPins {

    private record Pin(Object mapping, int count) {
    }

    private static final Map<Long, Pin> PINS = new ConcurrentHashMap<>();

    /** The deleter given to {@code from_blob}; a static field so the callback itself is never collected. */
    static final PointerConsumer UNPIN = new PointerConsumer() {
        @Override
        public void call(Pointer data) {
            unpin(data.address());
        }
    };

    private MappingPins() {
    }

    static void pin(long address, Object mapping) {
        PINS.compute(address, (a, p) -> p == null ? new Pin(mapping, 1) : new Pin(p.mapping(), p.count() + 1));
    }

    static void unpin(long address) {
        PINS.computeIfPresent(address, (a, p) -> p.count() <= 1 ? null : new Pin(p.mapping(), p.count() - 1));
    }

    /** Whether a mapping at this address is pinned now (for tests). */
    static boolean isPinned(long address) {
        return PINS.containsKey(address);
    }
}
