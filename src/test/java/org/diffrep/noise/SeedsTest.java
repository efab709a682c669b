package org.diffrep.noise;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

class SeedsTest {

    @Test
    void deterministicAndDistinct() {
        assertEquals(Seeds.derive(42, 3), Seeds.derive(42, 3));
        Set<Long> seen = new HashSet<>();
        for (long seed = 0; seed < 50; seed++) {
            for (long stream = 0; stream < 50; stream++) {
                seen.add(Seeds.derive(seed, stream));
            }
        }
        assertEquals(2500, seen.size());
        assertNotEquals(Seeds.derive(0, 1), Seeds.derive(1, 0));
        // splitmix64's finaliser of 0x9E3779B97F4A7C15 (the first output of a generator seeded 0) is 0xE220A8397B1DCDAF.
        assertEquals(0xE220A8397B1DCDAFL, Seeds.mix64(0x9E3779B97F4A7C15L));
    }
}
