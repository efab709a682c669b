package org.diffrep.data;

import org.diffrep.InvalidInputException;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DataSpecTest {

    @Test
    void parsesEveryForm() {
        DataSpec idx = DataSpec.parse("idx:data/mnist");
        assertEquals("idx", idx.kind());
        assertEquals(List.of("data/mnist"), idx.paths());
        DataSpec builtin = DataSpec.parse("builtin:mnist");
        assertEquals("builtin", builtin.kind());
        assertEquals(List.of("mnist"), builtin.paths());
        assertEquals(List.of("a.gz", "b.gz"), DataSpec.parse("idx:a.gz,b.gz").paths());
        DataSpec c100 = DataSpec.parse("cifar100:c.tar.gz,labels=coarse");
        assertEquals(List.of("c.tar.gz"), c100.paths());
        assertEquals(Map.of("labels", "coarse"), c100.options());
        DataSpec folder = DataSpec.parse("folder:imgs,size=64,channels=1");
        assertEquals(Map.of("size", "64", "channels", "1"), folder.options());
        assertEquals(List.of("x.npy", "y.npy"), DataSpec.parse("npy:x.npy,y.npy").paths());
        DataSpec molrg = DataSpec.parse("molrg:n=50,d=5,K=3,delta=0.2,samples=12000,seed=0");
        assertEquals("molrg", molrg.kind());
        assertEquals(MolrgParams.DEFAULT, MolrgParams.parse("n=50,d=5,K=3,delta=0.2,samples=12000,seed=0"));
        assertEquals(MolrgParams.DEFAULT, MolrgParams.parse(""));
    }

    @Test
    void badSpecsAreRefusedBeforeReading() {
        assertError("", "got nothing");
        assertError("mnist", "unknown kind 'mnist'");
        assertError("png:dir", "unknown kind 'png'");
        assertError("idx:a,b,c", "expected idx:DIR or idx:IMAGES,LABELS, got 3 path(s)");
        assertError("npy:x.npy", "expected npy:X.npy,Y.npy");
        assertError("cifar10:a.tar.gz,labels=fine", "unknown option 'labels' for cifar10");
        assertError("folder:d,size=8,size=9", "given twice");
        assertError("folder:d,colour=1", "unknown option 'colour'");
        assertError("molrg:n=5,d=5,K=3", "K*d <= n");
    }

    private static void assertError(String spec, String fragment) {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> DataSpec.parse(spec));
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
    }
}
