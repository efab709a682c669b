package org.diffrep.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.diffrep.InvalidInputException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ThreadsTest {

    @AfterEach
    void restore() {
        System.clearProperty(Threads.BLAS_PROPERTY);
        Threads.set(0);
    }

    @Test
    void openBlasGetsOneThreadUnlessAsked() {
        Threads.set(2);
        assertEquals(2, Threads.torchThreads());
        assertEquals(2, Threads.kernelThreads());
        assertEquals(1, Threads.blasThreads());

        System.setProperty(Threads.BLAS_PROPERTY, "0");
        Threads.set(2);
        assertEquals(2, Threads.blasThreads());

        System.setProperty(Threads.BLAS_PROPERTY, "3");
        assertEquals(3, Threads.blasThreadsSetting(2));
    }

    @Test
    void aBadBlasSettingIsNamed() {
        System.setProperty(Threads.BLAS_PROPERTY, "many");
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Threads.set(2));
        assertEquals(true, e.getMessage().contains("diffrep.blas.threads"));
    }
}
