package org.diffrep.data;

import org.bytedeco.javacpp.PointerScope;
import org.diffrep.InvalidInputException;
import org.diffrep.ops.Tensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BuiltinDataTest {

    @Test
    void builtinMnistHasTenThousandDigitsInTenClasses() {
        Dataset d = DataSpec.open("builtin:mnist");
        assertEquals(10000, d.size());
        assertArrayEquals(new int[]{1, 28, 28}, d.imageShape());
        assertEquals(10, d.numClasses());
        assertArrayEquals(new int[]{1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978}, d.classCounts());
        assertEquals(List.of("mnist"), BuiltinData.names());
    }

    @Test
    void builtinMnistReadsTheSameAsItsFilesThroughIdx(@TempDir Path dir) throws IOException {
        Dataset builtin = DataSpec.open("builtin:mnist");
        Dataset files = DataSpec.open("idx:" + BuiltinFiles.copyMnist(dir));
        assertArrayEquals(files.labels(), builtin.labels());
        long[] all = LongStream.range(0, builtin.size()).toArray();
        try (PointerScope s = new PointerScope()) {
            assertArrayEquals(Tensors.toFloats(files.batch(all).images()), Tensors.toFloats(builtin.batch(all).images()));
        }
    }

    @Test
    void unknownBuiltinNameListsTheAvailableOnes() {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> DataSpec.parse("builtin:cifar10"));
        assertTrue(e.getMessage().contains("no built-in data set named 'cifar10'")
                && e.getMessage().contains("available: builtin:mnist"), e.getMessage());
        e = assertThrows(InvalidInputException.class, () -> DataSpec.parse("builtin:"));
        assertTrue(e.getMessage().contains("expected builtin:NAME (mnist)"), e.getMessage());
        e = assertThrows(InvalidInputException.class, () -> DataSpec.parse("builtin:mnist,size=3"));
        assertTrue(e.getMessage().contains("unknown option 'size' for builtin"), e.getMessage());
    }
}
