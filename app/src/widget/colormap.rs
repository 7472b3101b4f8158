//! Colormaps for scalar images: 256-entry RGBA lookup tables, uploaded once as one row each of a LUT texture.

/// Entries per lookup table.
pub const LUT_SIZE: usize = 256;

/// The colormaps the viewer offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Colormap {
    /// Linear grey ramp.
    #[default]
    Gray,
    /// matplotlib's viridis.
    Viridis,
    /// matplotlib's inferno.
    Inferno,
    /// matplotlib's magma.
    Magma,
    /// matplotlib's plasma.
    Plasma,
    /// matplotlib's cividis.
    Cividis,
    /// Turbo (Google), a rainbow with even lightness steps.
    Turbo,
}

impl Colormap {
    /// Every colormap, in LUT-row order.
    pub const ALL: [Colormap; 7] = [
        Colormap::Gray,
        Colormap::Viridis,
        Colormap::Inferno,
        Colormap::Magma,
        Colormap::Plasma,
        Colormap::Cividis,
        Colormap::Turbo,
    ];

    /// Row of this colormap in the LUT texture.
    pub fn row(self) -> u32 {
        Self::ALL.iter().position(|c| *c == self).unwrap_or(0) as u32
    }

    /// Name as users know it.
    pub fn name(self) -> &'static str {
        match self {
            Colormap::Gray => "gray",
            Colormap::Viridis => "viridis",
            Colormap::Inferno => "inferno",
            Colormap::Magma => "magma",
            Colormap::Plasma => "plasma",
            Colormap::Cividis => "cividis",
            Colormap::Turbo => "turbo",
        }
    }

    /// Parse a name as [`Colormap::name`] gives it (case-insensitive).
    pub fn parse(name: &str) -> Result<Self, String> {
        Self::ALL.into_iter().find(|c| c.name().eq_ignore_ascii_case(name)).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(|c| c.name()).collect();
            format!("unknown colormap '{name}': choose one of {}", names.join(", "))
        })
    }

    /// The sRGB colour at `t` in 0..=1.
    pub fn eval(self, t: f64) -> [u8; 3] {
        let t = t.clamp(0.0, 1.0);
        let g = match self {
            Colormap::Gray => {
                let v = (t * 255.0).round() as u8;
                return [v, v, v];
            }
            Colormap::Viridis => colorous::VIRIDIS,
            Colormap::Inferno => colorous::INFERNO,
            Colormap::Magma => colorous::MAGMA,
            Colormap::Plasma => colorous::PLASMA,
            Colormap::Cividis => colorous::CIVIDIS,
            Colormap::Turbo => colorous::TURBO,
        };
        let c = g.eval_continuous(t);
        [c.r, c.g, c.b]
    }

    /// The 256-entry sRGB lookup table, RGBA8 with opaque alpha.
    pub fn lut(self) -> [[u8; 4]; LUT_SIZE] {
        let mut out = [[0u8; 4]; LUT_SIZE];
        for (i, px) in out.iter_mut().enumerate() {
            let [r, g, b] = self.eval(i as f64 / (LUT_SIZE - 1) as f64);
            *px = [r, g, b, 255];
        }
        out
    }
}

impl std::fmt::Display for Colormap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// All LUTs stacked row by row (`Colormap::ALL.len()` rows of `LUT_SIZE` RGBA8 texels), as the texture holds them.
pub fn lut_atlas() -> Vec<u8> {
    Colormap::ALL.iter().flat_map(|c| c.lut()).flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luts_have_the_known_endpoints() {
        assert_eq!(Colormap::Gray.lut()[0], [0, 0, 0, 255]);
        assert_eq!(Colormap::Gray.lut()[255], [255, 255, 255, 255]);
        // viridis runs from dark purple (#440154) to yellow (#fde725).
        let v = Colormap::Viridis.lut();
        assert!(v[0][2] > v[0][1] && v[0][0] > 50 && v[0][0] < 80);
        assert!(v[255][0] > 240 && v[255][1] > 220 && v[255][2] < 60);
        assert_eq!(lut_atlas().len(), Colormap::ALL.len() * LUT_SIZE * 4);
        assert_eq!(Colormap::Inferno.row(), 2);
    }
}
