package org.diffrep.io;

import org.diffrep.InvalidInputException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LimitsTest {

    @Test
    void productsAndByteCountsNeverOverflow() {
        assertEquals(24, Limits.product(new long[]{2, 3, 4}, "x"));
        assertEquals(0, Limits.product(new long[]{Long.MAX_VALUE, 2, 0}, "x"), "a zero dimension wins");
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> Limits.product(new long[]{1L << 62, 4}, "f.npy: field shape"));
        assertTrue(e.getMessage().contains("f.npy: field shape") && e.getMessage().contains("overflow"), e.getMessage());
        assertThrows(InvalidInputException.class, () -> Limits.product(new long[]{-1}, "x"));
        assertThrows(InvalidInputException.class, () -> Limits.bytes(1L << 62, 4, "x"));
        assertThrows(InvalidInputException.class, () -> Limits.inMemory(Limits.MAX_ARRAY + 1, 1, "x", "y"));
        assertEquals("1.5 MiB", Limits.human(3L << 19));
    }
}
