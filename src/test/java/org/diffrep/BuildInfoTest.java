package org.diffrep;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BuildInfoTest {

    /** The versions come from pom.xml through resource filtering: no placeholder is left and the pom's version is there. */
    @Test
    void versionsAreFilledInFromThePom() {
        String pom = System.getProperty("diffrep.test.project.version");
        assertNotNull(pom, "surefire should set diffrep.test.project.version (see pom.xml)");
        assertEquals(pom, BuildInfo.version());
        assertTrue(BuildInfo.javacppVersion().matches("\\d+\\.\\d+(\\.\\d+)*"), BuildInfo.javacppVersion());
        String torch = BuildInfo.libtorch();
        assertTrue(torch.matches("\\d+\\.\\d+(\\.\\d+)* \\(JavaCPP presets " + BuildInfo.javacppVersion().replace(".", "\\.") + "\\)"),
                torch);
        assertTrue(BuildInfo.libtorchArtifact().startsWith("pytorch-platform"), BuildInfo.libtorchArtifact());
        assertEquals(List.of("diffrep", "libtorch"), List.copyOf(BuildInfo.versions().keySet()));
        for (String v : BuildInfo.versions().values()) {
            assertFalse(v.contains("${"), v);
        }
    }
}
