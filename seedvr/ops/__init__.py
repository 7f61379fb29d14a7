"""Video operations without weights: optical flow, warping, propagation along the flow, its fusion."""
