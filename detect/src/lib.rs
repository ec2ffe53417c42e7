//! Change-point detection and threshold rules. Pure: numbers in, findings out.
