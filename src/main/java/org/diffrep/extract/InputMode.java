package org.diffrep.extract;

import org.diffrep.Choice;

import java.util.Locale;

/** What the network sees: the clean image conditioned on sigma, or the image with noise of level sigma. */
public enum InputMode implements Choice {
    CLEAN, NOISY;

    @Override
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }
}
